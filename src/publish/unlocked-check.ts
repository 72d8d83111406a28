import { setTimeout as sleep } from 'node:timers/promises';
import type { ArtifactIndex } from '@kbuild/loader';
import { parseIndex } from '@kbuild/loader/internal';
import { INDEX_KEY } from '../store/keys.js';
import type { ArtifactStore } from '../store/types.js';

/** How long an unlocked publisher waits before it looks at the stored index again (KBUILD_UNLOCKED_SETTLE_MS). */
export const DEFAULT_SETTLE_MS = 3000;

export const settleMs = (env: NodeJS.ProcessEnv = process.env): number => Number(env['KBUILD_UNLOCKED_SETTLE_MS'] ?? DEFAULT_SETTLE_MS);

/** QEMU records in an index: what `kbuild verify` publishes. */
export const countQemuRecords = (index: ArtifactIndex): number =>
  index.artifacts.reduce((n, a) => n + a.verification.filter((v) => v.method === 'qemu').length, 0);

/**
 * Nothing serializes an `--unlocked` publish: a concurrent publisher that read
 * index.json before this one wrote it writes it back without this one's
 * entries. So the stored index is read again a while later, and the artifacts
 * this publish listed that it no longer lists (same path and sha256) are
 * returned, for the caller to report instead of calling the publish a success.
 * A publisher that overwrites it later still is not seen: only a lock is sure.
 */
export async function droppedEntries(store: ArtifactStore, published: ArtifactIndex, settleMs: number, signal?: AbortSignal): Promise<string[]> {
  const stored = await storedAfter(store, settleMs, signal);
  const listed = new Set(stored.map((a) => `${a.path}\0${a.sha256}`));
  return published.artifacts.filter((a) => !listed.has(`${a.path}\0${a.sha256}`)).map((a) => a.path);
}

/**
 * The same check for `kbuild verify --unlocked`, which writes verification
 * records, not artifacts: every QEMU record this publish wrote (by artifact,
 * kernel and mode) must still be in the stored index, else a concurrent
 * publisher wrote back an index read before this one.
 */
export async function droppedVerifications(store: ArtifactStore, published: ArtifactIndex, settleMs: number, signal?: AbortSignal): Promise<string[]> {
  const stored = new Map((await storedAfter(store, settleMs, signal)).map((a) => [`${a.path}\0${a.sha256}`, a]));
  const dropped: string[] = [];
  for (const artifact of published.artifacts) {
    const now = stored.get(`${artifact.path}\0${artifact.sha256}`);
    const kept = new Set((now?.verification ?? []).filter((v) => v.method === 'qemu').map(recordKey));
    for (const v of artifact.verification.filter((r) => r.method === 'qemu')) {
      if (!kept.has(recordKey(v))) dropped.push(`${artifact.path} (${v.kernel?.release ?? '?'}, ${v.mode ?? '?'})`);
    }
  }
  return dropped;
}

type Verification = ArtifactIndex['artifacts'][number]['verification'][number];
const recordKey = (v: Verification): string => `${v.kernel?.release ?? ''}\0${v.mode ?? ''}\0${v.result}\0${v.verifyId ?? ''}`;

async function storedAfter(store: ArtifactStore, settleMs: number, signal?: AbortSignal): Promise<ArtifactIndex['artifacts']> {
  await sleep(settleMs, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
  const bytes = await store.get(INDEX_KEY);
  return bytes === undefined ? [] : parseIndex(bytes.toString('utf8'), `${store.location}/${INDEX_KEY}`).artifacts;
}

/** The lines that say entries were lost and what to do, for build and verify alike (`what`: "index entries this build"). */
export function lostEntriesMessage(dropped: readonly string[], of: number, what: string, location: string): string {
  return (
    `kbuild: error: E_INDEX_ENTRIES_LOST: ${dropped.length} of ${of} ${what} published to ${location} were dropped by a concurrent publisher ` +
    `(published --unlocked: nothing serialized the index updates): ${dropped.slice(0, 5).join(', ')}${dropped.length > 5 ? ', …' : ''}\n` +
    `kbuild: what was built is stored; publish again with --redis URL (a rerun builds nothing) so the index lists it\n`
  );
}
