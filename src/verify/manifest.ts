import { ConfigError } from '../errors.js';
import { ATTACH_TARGET, CPU_COUNT, INNER_MAP_TYPES, MAX_MAP_ENTRIES, PROGRAM_TYPES, TRIGGERS, type EntryCount } from './policy-names.js';
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
  /** Loaded as gobpf's ELF loader does: the object has per-map `maps/<name>` sections. */
  readonly gobpf?: boolean;
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

function checkCount(where: string, field: string, count: EntryCount | undefined, min: number): void {
  if (count === undefined || (typeof count === 'string' && CPU_COUNT.test(count))) return;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < min || count > MAX_MAP_ENTRIES) {
    throw new ConfigError(`${where}: verify ${field} ${JSON.stringify(count)} is not "cpus", "cpus*N", "cpus*cpus" or an integer in ${min}..${MAX_MAP_ENTRIES}`);
  }
}

function checkMapName(where: string, field: string, name: string): void {
  if (!MAP_NAME.test(name)) throw new ConfigError(`${where}: verify ${field} ${JSON.stringify(name)} is not a BPF map name (letters, digits, _ and .)`);
}

export function checkCase(verifyCase: VerifyCase): void {
  const where = `probe ${JSON.stringify(verifyCase.probe)} (${verifyCase.mode})`;
  const { event, attachSkip, attachOptional, attachOnly, autoloadDisable, autocreateDisable, autoloadOptional, maps, programTypes, attachTargets } = verifyCase.check;
  checkGlobs(where, 'attach.skip', attachSkip);
  checkGlobs(where, 'attach.optional', attachOptional);
  checkGlobs(where, 'attach.only', attachOnly);
  checkGlobs(where, 'autoload.disable', autoloadDisable);
  checkGlobs(where, 'autoload.maps', autocreateDisable);
  checkGlobs(where, 'autoload.optional', autoloadOptional);
  checkGlobs(where, 'programTypes', programTypes?.map((p) => p.programs));
  checkGlobs(where, 'attach.targets', attachTargets?.map((t) => t.programs));
  for (const t of attachTargets ?? []) {
    if (!ATTACH_TARGET.test(t.target)) throw new ConfigError(`${where}: verify attach.targets ${JSON.stringify(t.target)} is not a tracepoint, raw tracepoint or function name`);
  }
  for (const p of programTypes ?? []) {
    if (!(PROGRAM_TYPES as readonly string[]).includes(p.type)) throw new ConfigError(`${where}: verify programTypes ${JSON.stringify(p.type)} is not a program type kbuild knows`);
  }
  if ((maps?.length ?? 0) > MAX_POLICY) throw new ConfigError(`${where}: verify maps lists ${maps?.length} maps (at most ${MAX_POLICY})`);
  for (const m of maps ?? []) {
    checkMapName(where, 'maps', m.name);
    checkCount(where, `maps.${m.name}.maxEntries`, m.maxEntries, 1);
    if (m.inner === undefined) continue;
    if (!(INNER_MAP_TYPES as readonly string[]).includes(m.inner.type)) throw new ConfigError(`${where}: verify maps.${m.name}.inner.type ${JSON.stringify(m.inner.type)} is not a map type kbuild knows`);
    checkCount(where, `maps.${m.name}.inner.maxEntries`, m.inner.maxEntries, 1);
    checkCount(where, `maps.${m.name}.inner.keySize`, m.inner.keySize, 0);
    checkCount(where, `maps.${m.name}.inner.valueSize`, m.inner.valueSize, 0);
  }
  if (event === undefined) return;
  checkMapName(where, 'counter map', event.counterMap);
  if (!(TRIGGERS as readonly string[]).includes(event.trigger)) throw new ConfigError(`${where}: unknown verify trigger ${JSON.stringify(event.trigger)}`);
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
    else if (c.gobpf === true) lines.push('loader gobpf');
    for (const glob of check.attachSkip ?? []) lines.push(`policy skip ${glob}`);
    for (const glob of check.attachOptional ?? []) lines.push(`policy optional ${glob}`);
    for (const glob of check.attachOnly ?? []) lines.push(`policy only ${glob}`);
    for (const glob of check.autoloadDisable ?? []) lines.push(`policy noautoload ${glob}`);
    for (const glob of check.autocreateDisable ?? []) lines.push(`policy nocreate ${glob}`);
    for (const glob of check.autoloadOptional ?? []) lines.push(`policy loadoptional ${glob}`);
    for (const p of check.programTypes ?? []) lines.push(`progtype ${p.programs} ${p.type}`);
    for (const t of check.attachTargets ?? []) lines.push(`target ${t.programs} ${t.target}`);
    for (const m of check.maps ?? []) {
      const inner = m.inner === undefined ? ['-', 0, 0, 0] : [m.inner.type, m.inner.keySize, m.inner.valueSize, m.inner.maxEntries];
      lines.push(['map', m.name, m.maxEntries ?? '-', ...inner].join(' '));
    }
    const event = check.event === undefined ? ['none', '-', 0] : [check.event.trigger, check.event.counterMap, check.event.count];
    lines.push(['case', c.index, mode, c.object, c.btf ?? '-', ...event].join(' '));
  }
  return `${lines.join('\n')}\n`;
}
