import { ConfigError } from '../errors.js';
import type { VerifyCase } from './types.js';

/**
 * The guest loader's manifest (images/guest/kbuild-guest.c reads it): one
 * directive a line, fields separated by spaces. Paths are the engine's own
 * (/cases/<n>.o); the only value from outside is the counter map's name,
 * which is checked to be a C identifier before it gets here.
 */

export interface ManifestCase {
  readonly index: number;
  readonly verifyCase: VerifyCase;
  /** Paths inside the initramfs. */
  readonly object: string;
  readonly btf?: string;
}

export interface ManifestOptions {
  /** Seconds one case may take inside the guest before the loader gives up on it. */
  readonly caseTimeoutSeconds: number;
  /** Tests: the guest never finishes, so the host's time limit has to act. */
  readonly hang?: boolean;
}

const MAP_NAME = /^[A-Za-z_][A-Za-z0-9_.]{0,127}$/;

export function checkCase(verifyCase: VerifyCase): void {
  const where = `probe ${JSON.stringify(verifyCase.probe)} (${verifyCase.mode})`;
  if (!MAP_NAME.test(verifyCase.check.counterMap)) {
    throw new ConfigError(`${where}: verify counter map ${JSON.stringify(verifyCase.check.counterMap)} is not a BPF map name (letters, digits, _ and .)`);
  }
  if (verifyCase.check.trigger !== 'execve') throw new ConfigError(`${where}: unknown verify trigger ${JSON.stringify(verifyCase.check.trigger)}`);
  if (!Number.isInteger(verifyCase.check.count) || verifyCase.check.count < 1 || verifyCase.check.count > 10_000) {
    throw new ConfigError(`${where}: verify count ${verifyCase.check.count} is not an integer in 1..10000`);
  }
}

export function writeManifest(cases: readonly ManifestCase[], options: ManifestOptions): string {
  const lines = [`case-timeout ${Math.max(1, Math.floor(options.caseTimeoutSeconds))}`];
  if (options.hang === true) lines.push('hang');
  for (const c of cases) {
    checkCase(c.verifyCase);
    const { check, mode } = c.verifyCase;
    lines.push(['case', c.index, mode, c.object, c.btf ?? '-', check.counterMap, check.trigger, check.count].join(' '));
  }
  return `${lines.join('\n')}\n`;
}
