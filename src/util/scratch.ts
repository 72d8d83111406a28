import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Scratch folders in the temporary directory carry their owner's pid
 * (`kbuild-job-<pid>-XXXXXX`), so a later worker or build can tell the
 * leftovers of a killed process from folders still in use and remove them.
 */
export const SCRATCH_PREFIXES = ['kbuild-job-', 'kbuild-verify-', 'kbuild-check-'] as const;
export type ScratchPrefix = (typeof SCRATCH_PREFIXES)[number];

export function makeScratch(prefix: ScratchPrefix): Promise<string> {
  return mkdtemp(join(tmpdir(), `${prefix}${process.pid}-`));
}

export interface SweepOptions {
  readonly dir?: string;
  /** Folders younger than this are left alone (default 10 minutes): a pid may live in another pid namespace. */
  readonly minAgeMs?: number;
  /** Folders of older kbuild versions name no pid; they go once this old (default 1 day). */
  readonly unownedAgeMs?: number;
}

/** Removes scratch folders whose owning process is gone; returns the paths removed. Never throws. */
export async function sweepScratch(options: SweepOptions = {}): Promise<string[]> {
  const dir = options.dir ?? tmpdir();
  const minAgeMs = options.minAgeMs ?? 10 * 60_000;
  const unownedAgeMs = options.unownedAgeMs ?? 24 * 60 * 60_000;
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const prefix = SCRATCH_PREFIXES.find((p) => name.startsWith(p));
    if (prefix === undefined) continue;
    const path = join(dir, name);
    const stat = await lstat(path).catch(() => undefined);
    if (stat === undefined || !stat.isDirectory()) continue;
    const age = Date.now() - stat.mtimeMs;
    const pid = /^(\d+)-/.exec(name.slice(prefix.length))?.[1];
    const orphan = pid === undefined ? age > unownedAgeMs : age > minAgeMs && !isAlive(Number(pid));
    if (!orphan) continue;
    await rm(path, { recursive: true, force: true }).then(() => removed.push(path), () => undefined);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
