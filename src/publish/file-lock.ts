import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { withLock } from '../cache/content-cache.js';
import type { PublishLock } from './publish-lock.js';

/**
 * Publishers sharing a filesystem store (one machine, or NFS with working
 * O_EXCL) serialize on a lock file in the store's root. The lock file is no
 * store key, so it never shows up in an index.
 */
export function fileLockFor(storeRoot: string, options: { timeoutMs?: number } = {}): PublishLock {
  const path = join(storeRoot, '.index.json.lock');
  return {
    name: path,
    withLock: async (fn) => {
      // The first publish of a new store may come before any artifact made its folder.
      await mkdir(storeRoot, { recursive: true });
      return withLock(path, () => fn({ assertHeld: () => undefined }), { pollMs: 25, timeoutMs: options.timeoutMs ?? 10 * 60_000 });
    },
    close: async () => undefined,
  };
}
