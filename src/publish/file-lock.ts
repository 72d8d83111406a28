import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, lstat, mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KbuildError } from '../errors.js';
import type { PublishLock } from './publish-lock.js';

export interface FileLockOptions {
  /** Give up waiting after this long. */
  readonly timeoutMs?: number;
  /** A lock whose heartbeat (mtime) is older than this belongs to a dead or stuck publisher. */
  readonly staleMs?: number;
  /** A lock file without a readable owner (left by a full disk, or a crash mid-write) is stale after this long. */
  readonly unreadableStaleMs?: number;
  /** Where "waiting for ..." goes (default: stderr). */
  readonly onWait?: (line: string) => void;
}

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly at: string;
}

const POLL_MS = 50;

/**
 * Publishers sharing a filesystem store (one machine, or NFS with working
 * link(2)) serialize on a lock file in the store's root. The lock file is no
 * store key, so it never shows up in an index. It is written whole under a
 * temporary name and linked into place, so it never exists empty: a full disk
 * fails the publish instead of leaving a lock nobody owns. A heartbeat keeps
 * its mtime fresh while held; a lock whose owner is gone (same host, pid dead),
 * whose heartbeat stopped, or that has no readable owner is taken over.
 */
export function fileLockFor(storeRoot: string, options: FileLockOptions = {}): PublishLock {
  const path = join(storeRoot, '.index.json.lock');
  return {
    name: path,
    withLock: async (fn) => {
      // The first publish of a new store may come before any artifact made its folder.
      await mkdir(storeRoot, { recursive: true });
      const staleMs = options.staleMs ?? 60_000;
      await acquire(path, staleMs, options);
      const heartbeat = setInterval(() => {
        const now = new Date();
        utimes(path, now, now).catch(() => undefined);
      }, staleMs / 4);
      heartbeat.unref();
      try {
        return await fn({ assertHeld: () => undefined });
      } finally {
        clearInterval(heartbeat);
        await rm(path, { force: true });
      }
    },
    close: async () => undefined,
  };
}

async function acquire(path: string, staleMs: number, options: FileLockOptions): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const onWait = options.onWait ?? ((line: string) => process.stderr.write(`kbuild: ${line}\n`));
  const interrupted = new AbortController();
  const onSignal = (): void => interrupted.abort();
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  let announced = '';
  try {
    for (;;) {
      if (await tryCreate(path)) return;
      const holder = await inspect(path, staleMs, options.unreadableStaleMs ?? 5_000);
      if (holder === undefined) continue; // released in between
      if (holder.stale) {
        // Only the file judged stale: another waiter may have taken over and created a fresh one meanwhile.
        if ((await lstat(path).catch(() => undefined))?.ino === holder.ino) {
          onWait(`taking over ${path}: ${holder.why}`);
          await rm(path, { force: true });
        }
        continue;
      }
      if (holder.why !== announced) {
        announced = holder.why;
        onWait(`waiting for ${path}: ${holder.why}`);
      }
      if (Date.now() > deadline) throw new KbuildError('E_PUBLISH_LOCK', `timed out waiting for ${path} (${holder.why})`, { retryable: true });
      await sleep(POLL_MS, undefined, { signal: interrupted.signal }).catch(() => undefined);
      if (interrupted.signal.aborted) {
        throw new KbuildError('E_INTERRUPTED', `interrupted while waiting for ${path} (${holder.why}); nothing was published`, { exitCode: 130 });
      }
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

/** Owner first under a private name, then link(2): the lock appears whole or not at all. */
async function tryCreate(path: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const owner: LockOwner = { pid: process.pid, host: hostname(), at: new Date().toISOString() };
  try {
    await writeFile(tmp, JSON.stringify(owner), { flag: 'wx' });
    await link(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    throw new KbuildError('E_PUBLISH_LOCK', `cannot create ${path} (${code ?? (err as Error).message}); nothing was published`, { cause: err });
  } finally {
    await rm(tmp, { force: true });
  }
}

async function inspect(path: string, staleMs: number, unreadableStaleMs: number): Promise<{ stale: boolean; why: string; ino?: number } | undefined> {
  const stat = await lstat(path).catch(() => undefined);
  if (stat === undefined) return undefined;
  const ino = stat.ino;
  const age = Date.now() - stat.mtimeMs;
  const owner = await readFile(path, 'utf8').then((text) => parseOwner(text), () => undefined);
  if (owner === undefined) {
    return age > unreadableStaleMs
      ? { stale: true, ino, why: `it names no owner (empty or unreadable) for ${Math.round(age / 1000)} s` }
      : { stale: false, why: 'it names no owner yet' };
  }
  const who = `held by pid ${owner.pid} on ${owner.host} since ${owner.at}`;
  if (age > staleMs) return { stale: true, ino, why: `${who}, no heartbeat for ${Math.round(age / 1000)} s` };
  if (owner.host === hostname() && !isAlive(owner.pid)) return { stale: true, ino, why: `${who}, and that process is gone` };
  return { stale: false, why: who };
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' && typeof owner.at === 'string' ? (owner as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
