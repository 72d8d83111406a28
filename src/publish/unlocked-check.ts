import { setTimeout as sleep } from 'node:timers/promises';
import type { ArtifactIndex } from '@kbuild/loader';
import { parseIndex } from '@kbuild/loader/internal';
import { INDEX_KEY } from '../store/keys.js';
import type { ArtifactStore } from '../store/types.js';

/** How long an unlocked publisher waits before it looks at the stored index again (KBUILD_UNLOCKED_SETTLE_MS). */
export const DEFAULT_SETTLE_MS = 3000;

/**
 * Nothing serializes an `--unlocked` publish: a concurrent publisher that read
 * index.json before this one wrote it writes it back without this one's
 * entries. So the stored index is read again a while later, and the artifacts
 * this publish listed that it no longer lists (same path and sha256) are
 * returned, for the caller to report instead of calling the publish a success.
 * A publisher that overwrites it later still is not seen: only a lock is sure.
 */
export async function droppedEntries(store: ArtifactStore, published: ArtifactIndex, settleMs: number, signal?: AbortSignal): Promise<string[]> {
  await sleep(settleMs, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
  const bytes = await store.get(INDEX_KEY);
  const stored = bytes === undefined ? [] : parseIndex(bytes.toString('utf8'), `${store.location}/${INDEX_KEY}`).artifacts;
  const listed = new Set(stored.map((a) => `${a.path}\0${a.sha256}`));
  return published.artifacts.filter((a) => !listed.has(`${a.path}\0${a.sha256}`)).map((a) => a.path);
}
