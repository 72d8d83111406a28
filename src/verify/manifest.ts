import { ConfigError } from '../errors.js';
import type { VerifyCase } from './types.js';

/**
 * The guest loader's manifest (images/guest/kbuild-guest.c reads it): one
 * directive a line, fields separated by spaces. Paths are the engine's own
 * (/cases/<n>.o); the only values from outside are the counter map's name
 * and the policy's program globs, checked here before they get in.
 */

export interface ManifestCase {
  readonly index: number;
  readonly verifyCase: VerifyCase;
  /** Paths inside the initramfs. */
  readonly object: string;
  readonly btf?: string;
  /** Run by /init-legacy (a pre-1.0 libbpf): the object has a `maps` section. */
  readonly legacy?: boolean;
}

export interface ManifestOptions {
  /** Seconds one case may take inside the guest before the loader gives up on it. */
  readonly caseTimeoutSeconds: number;
  /** Tests: the guest never finishes, so the host's time limit has to act. */
  readonly hang?: boolean;
}

const MAP_NAME = /^[A-Za-z_][A-Za-z0-9_.]{0,127}$/;
/** A program name or a glob of them: C identifier characters, `*` and `?` (no spaces: the manifest splits on them). */
export const PROGRAM_GLOB = /^[A-Za-z_*?][A-Za-z0-9_*?]{0,127}$/;
const MAX_POLICY = 64;

function checkGlobs(where: string, field: string, globs: readonly string[] | undefined): void {
  if (globs === undefined) return;
  if (globs.length > MAX_POLICY) throw new ConfigError(`${where}: verify ${field} lists ${globs.length} names (at most ${MAX_POLICY})`);
  for (const glob of globs) {
    if (!PROGRAM_GLOB.test(glob)) throw new ConfigError(`${where}: verify ${field} ${JSON.stringify(glob)} is not a program name or glob (letters, digits, _, * and ?)`);
  }
}

export function checkCase(verifyCase: VerifyCase): void {
  const where = `probe ${JSON.stringify(verifyCase.probe)} (${verifyCase.mode})`;
  const { event, attachSkip, attachOptional, autoloadDisable } = verifyCase.check;
  checkGlobs(where, 'attach.skip', attachSkip);
  checkGlobs(where, 'attach.optional', attachOptional);
  checkGlobs(where, 'autoload.disable', autoloadDisable);
  if (event === undefined) return;
  if (!MAP_NAME.test(event.counterMap)) {
    throw new ConfigError(`${where}: verify counter map ${JSON.stringify(event.counterMap)} is not a BPF map name (letters, digits, _ and .)`);
  }
  if (event.trigger !== 'execve') throw new ConfigError(`${where}: unknown verify trigger ${JSON.stringify(event.trigger)}`);
  if (!Number.isInteger(event.count) || event.count < 1 || event.count > 10_000) {
    throw new ConfigError(`${where}: verify count ${event.count} is not an integer in 1..10000`);
  }
}

export function writeManifest(cases: readonly ManifestCase[], options: ManifestOptions): string {
  const lines = [`case-timeout ${Math.max(1, Math.floor(options.caseTimeoutSeconds))}`];
  if (options.hang === true) lines.push('hang');
  for (const c of cases) {
    checkCase(c.verifyCase);
    const { check, mode } = c.verifyCase;
    // Loader and policy lines belong to the case line that follows them.
    if (c.legacy === true) lines.push('loader legacy');
    for (const glob of check.attachSkip ?? []) lines.push(`policy skip ${glob}`);
    for (const glob of check.attachOptional ?? []) lines.push(`policy optional ${glob}`);
    for (const glob of check.autoloadDisable ?? []) lines.push(`policy noautoload ${glob}`);
    const event = check.event === undefined ? ['none', '-', 0] : [check.event.trigger, check.event.counterMap, check.event.count];
    lines.push(['case', c.index, mode, c.object, c.btf ?? '-', ...event].join(' '));
  }
  return `${lines.join('\n')}\n`;
}
