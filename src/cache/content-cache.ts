import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { copyFile, link, lstat, mkdir, open, readFile, readdir, readlink, realpath, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KbuildError } from '../errors.js';
import { observeCache, timePhase } from '../metrics/events.js';

/**
 * Content-addressed storage under the cache root. Entries are built in a
 * temporary folder beside their final place and renamed into it, so a reader
 * sees a complete entry or none; a lock file makes concurrent builders of the
 * same key (threads of one worker, or several workers on one host) wait for
 * the first instead of racing.
 *
 *   <root>/debs/<sha256>          verified package files
 *   <root>/<kind>/<key>/          extracted trees, with COMPLETE_MARKER inside
 */

export const COMPLETE_MARKER = '.kbuild-complete';
const SHA256_HEX = /^[0-9a-f]{64}$/;
const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function blobPath(root: string, sha256: string): string {
  if (!SHA256_HEX.test(sha256)) throw new KbuildError('E_CACHE_KEY', `not a sha256: ${sha256}`);
  return join(root, 'debs', sha256);
}

/** A key for content made from several inputs, e.g. the two packages of one kernel's headers. */
export function contentKey(...parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

export async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

export interface LockOptions {
  /** A lock not refreshed for this long belongs to a dead process. */
  readonly staleMs?: number;
  readonly pollMs?: number;
  readonly timeoutMs?: number;
}

async function lockIsStale(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    const [text, stat] = await Promise.all([readFile(lockPath, 'utf8'), lstat(lockPath)]);
    if (Date.now() - stat.mtimeMs > staleMs) return true;
    const owner = JSON.parse(text) as { pid?: unknown; host?: unknown };
    if (owner.host !== hostname() || typeof owner.pid !== 'number') return false;
    process.kill(owner.pid, 0);
    return false;
  } catch (err) {
    // ESRCH: the owner is gone. A lock still being written reads as bad JSON: not stale yet.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Runs `fn` holding an exclusive lock file (O_EXCL create), refreshed while held. */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const staleMs = options.staleMs ?? 10 * 60_000;
  const pollMs = options.pollMs ?? 100;
  const deadline = Date.now() + (options.timeoutMs ?? 60 * 60_000);
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() }));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await lockIsStale(lockPath, staleMs)) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new KbuildError('E_CACHE_LOCK', `timed out waiting for ${lockPath}`);
      await sleep(pollMs);
    }
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(lockPath, now, now).catch(() => undefined);
  }, staleMs / 3);
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await rm(lockPath, { force: true });
  }
}

export interface CacheEntry {
  readonly path: string;
  /** False when the entry was already complete (nothing was built). */
  readonly created: boolean;
}

const building = new Map<string, Promise<CacheEntry>>();

/**
 * Returns `<root>/<kind>/<key>`, calling `populate(tmpDir)` to build it when
 * absent. Callers in one process share one build; other processes wait on the lock.
 */
export async function ensureEntry(
  root: string,
  kind: string,
  key: string,
  populate: (tmpDir: string) => Promise<void>,
): Promise<CacheEntry> {
  if (!KEY.test(kind) || !KEY.test(key)) throw new KbuildError('E_CACHE_KEY', `bad cache key ${kind}/${key}`);
  const final = join(root, kind, key);
  if (await exists(join(final, COMPLETE_MARKER))) {
    observeCache(kind, true);
    return { path: final, created: false };
  }
  const pending = building.get(final);
  if (pending !== undefined) return pending.then((entry) => ({ ...entry, created: false }));
  const job = build(root, kind, key, final, populate)
    .then((entry) => (observeCache(kind, !entry.created), entry))
    .finally(() => building.delete(final));
  building.set(final, job);
  return job;
}

async function build(
  root: string,
  kind: string,
  key: string,
  final: string,
  populate: (tmpDir: string) => Promise<void>,
): Promise<CacheEntry> {
  await mkdir(join(root, kind), { recursive: true });
  return withLock(`${final}.lock`, async () => {
    if (await exists(join(final, COMPLETE_MARKER))) return { path: final, created: false };
    // A folder without its marker is left over from a crash before this layout existed: rebuild.
    await rm(final, { recursive: true, force: true });
    const tmp = join(root, kind, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(tmp);
    try {
      await populate(tmp);
      await writeFile(join(tmp, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
      await rename(tmp, final);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    return { path: final, created: true };
  });
}

/**
 * Returns `<root>/debs/<sha256>`, calling `download(dest)` when absent. The
 * download must verify the content and rename into `dest` only when it matches
 * (downloadToFile does); the lock spares concurrent workers a second download.
 */
export async function ensureBlob(
  root: string,
  sha256: string,
  download: (dest: string) => Promise<void>,
): Promise<CacheEntry> {
  const path = blobPath(root, sha256);
  if (await exists(path)) {
    observeCache('debs', true);
    return { path, created: false };
  }
  const pending = building.get(path);
  if (pending !== undefined) return pending.then((entry) => ({ ...entry, created: false }));
  const job = (async (): Promise<CacheEntry> => {
    await mkdir(join(root, 'debs'), { recursive: true });
    return withLock(`${path}.lock`, async () => {
      if (await exists(path)) return { path, created: false };
      await timePhase('download', () => download(path));
      return { path, created: true };
    });
  })()
    .then((entry) => (observeCache('debs', !entry.created), entry))
    .finally(() => building.delete(path));
  building.set(path, job);
  return job;
}

export interface LinkTreeOptions {
  /**
   * Links to folders outside `src` (a header tree's link to its shared common
   * tree) become a copy of the folder, hard-linked: for trees that must stand
   * alone, such as a build tree mounted on its own in a container.
   */
  readonly expandSharedLinks?: boolean;
}

/** Errors of link(2) that mean "no hard link here" (another filesystem, none allowed, too many): a copy does instead. */
export const NO_HARD_LINK: ReadonlySet<string> = new Set(['EXDEV', 'EPERM', 'EMLINK']);

/** The folder a link inside `rootReal` (a real path) points to, when that folder lies outside it. */
async function sharedFolder(rootReal: string, link: string): Promise<string | undefined> {
  const target = await realpath(link).catch(() => undefined);
  if (target === undefined) return undefined;
  if (target === rootReal || target.startsWith(`${rootReal}/`)) return undefined;
  return (await stat(target)).isDirectory() ? target : undefined;
}

/** Links made at once by linkTree: each is one round trip to libuv's threads. */
const LINKS_IN_FLIGHT = 16;

/**
 * Recreates `src` inside `dest` with hard links (a copy when the filesystem
 * refuses), so trees sharing content cost no extra disk. Trees in the cache
 * are never modified in place, which is what makes sharing inodes safe.
 * Folders are made first (in order), then files and links, several at once.
 */
export async function linkTree(src: string, dest: string, options: LinkTreeOptions = {}): Promise<number> {
  const items: [from: string, to: string, symlink: boolean][] = [];
  const srcReal = options.expandSharedLinks === true ? await realpath(src) : src;
  const walk = async (from: string, to: string): Promise<void> => {
    await mkdir(to, { recursive: true });
    for (const entry of await readdir(from, { withFileTypes: true })) {
      if (entry.name === COMPLETE_MARKER && from === src) continue;
      const a = join(from, entry.name);
      const b = join(to, entry.name);
      const shared = entry.isSymbolicLink() && options.expandSharedLinks === true ? await sharedFolder(srcReal, a) : undefined;
      if (entry.isDirectory()) await walk(a, b);
      else if (shared !== undefined) await walk(shared, b);
      else if (entry.isSymbolicLink() || entry.isFile()) items.push([a, b, entry.isSymbolicLink()]);
    }
  };
  await walk(src, dest);
  const one = async ([from, to, isLink]: (typeof items)[number]): Promise<void> => {
    if (isLink) return symlink(await readlink(from), to);
    return link(from, to).catch(async (err: NodeJS.ErrnoException) => {
      if (!NO_HARD_LINK.has(err.code ?? '')) throw err;
      await copyFile(from, to);
    });
  };
  for (let i = 0; i < items.length; i += LINKS_IN_FLIGHT) await Promise.all(items.slice(i, i + LINKS_IN_FLIGHT).map(one));
  return items.length;
}
