import { ArtifactIndex, INDEX_SCHEMA_VERSION, type IndexArtifact, type IndexFailure } from '@kbuild/loader';
import { fileLockFor } from '../publish/file-lock.js';
import { mergeIndex } from '../publish/merge-index.js';
import { noPublishLock, type PublishLock } from '../publish/publish-lock.js';
import { RedisPublishLock } from '../publish/redis-lock.js';
import { readStoredIndex, writeSignedIndex } from '../publish/signed-index.js';
import { loadSigningKey, type SigningKey } from '../sign/signing-key.js';
import { FsStore } from '../store/fs-store.js';
import type { ArtifactStore } from '../store/types.js';
import { jobArch, jobKernel } from '../job/types.js';
import type { JobResult } from './run-jobs.js';
import { kernelBtfFromArtifacts } from '../btf/index-btf.js';
import { withBtfRecords, type ExternalBtfRecord } from '../btf/btf-record.js';

/**
 * The index lists every artifact of the build set and every build that failed, in a stable order.
 * `untouched` are records of jobs that did not run (an interrupted build): what the store still
 * holds for them, so the index never disagrees with the store.
 */
export function indexFromResults(
  results: readonly JobResult[],
  generator: string,
  untouched: readonly IndexArtifact[] = [],
  untouchedBtf: readonly ExternalBtfRecord[] = [],
): ArtifactIndex {
  const artifacts = [...results.flatMap((r) => (r.artifact === undefined ? [] : [r.artifact])), ...untouched];
  artifacts.sort((a, b) => a.path.localeCompare(b.path));
  const failures: IndexFailure[] = results
    .filter((r) => r.status === 'failed')
    .map((r) => ({
      probe: r.job.probe.name,
      // An external BTF serves the CO-RE object on `kernel`: its failure is that object's, at that stage.
      ...(r.job.kind === 'btf' ? { kind: 'core' as const, stage: 'external-btf' as const } : { kind: r.job.kind }),
      arch: jobArch(r.job),
      kernel: { ...jobKernel(r.job) },
      code: r.error?.code ?? 'E_INTERNAL',
      message: [r.error?.message ?? '', r.error?.output ?? ''].filter((s) => s !== '').join('\n').slice(0, 65536),
    }));
  return ArtifactIndex.parse({
    schemaVersion: INDEX_SCHEMA_VERSION,
    generatedAt: new Date().toISOString(),
    generator,
    artifacts,
    failures,
    kernelBtf: withBtfRecords(kernelBtfFromArtifacts(artifacts), [...results.flatMap((r) => (r.externalBtf === undefined ? [] : [r.externalBtf])), ...untouchedBtf]),
  });
}

export interface WriteIndexOptions {
  /** Signs index.json (index.json.sig). Default: the key file named by KBUILD_SIGNING_KEY, if set. */
  readonly signingKey?: SigningKey;
  /**
   * Serializes publishers of one store. Default: a lock file for a filesystem store, a Redis lock
   * when KBUILD_REDIS_URL is set, else none (one publisher at a time is then the caller's promise).
   */
  readonly lock?: PublishLock;
  readonly env?: NodeJS.ProcessEnv;
}

export interface WriteIndexResult {
  /** What was written: the stored index merged with the given one. */
  readonly index: ArtifactIndex;
  readonly signed: boolean;
  readonly lock: string;
}

/**
 * Publishes: under the store's lock, reads the stored index, merges the given
 * one into it and writes it back, then its signature. Artifacts and records are
 * already in the store, so the index never names an incomplete object.
 */
export async function writeIndex(store: ArtifactStore, index: ArtifactIndex, options: WriteIndexOptions = {}): Promise<WriteIndexResult> {
  return updateIndex(store, (stored) => mergeIndex(stored, index), options);
}

/**
 * The same, for changes that must be computed from the index as it is when
 * the lock is held (`kbuild verify` laying its results over the stored
 * entries): a publish in between is never overwritten with an older copy.
 */
export async function updateIndex(
  store: ArtifactStore,
  update: (stored: ArtifactIndex | undefined) => ArtifactIndex,
  options: WriteIndexOptions = {},
): Promise<WriteIndexResult> {
  const env = options.env ?? process.env;
  const signingKey = options.signingKey ?? (env['KBUILD_SIGNING_KEY'] ? await loadSigningKey(env['KBUILD_SIGNING_KEY']) : undefined);
  const lock = options.lock ?? defaultLock(store, env);
  try {
    return await lock.withLock(async (lease) => {
      const stored = await readStoredIndex(store, signingKey);
      const merged = update(stored);
      const bytes = Buffer.from(`${JSON.stringify(merged, null, 2)}\n`);
      lease.assertHeld();
      await writeSignedIndex(store, merged, bytes, signingKey);
      return { index: merged, signed: signingKey !== undefined, lock: lock.name };
    });
  } finally {
    if (options.lock === undefined) await lock.close();
  }
}

function defaultLock(store: ArtifactStore, env: NodeJS.ProcessEnv): PublishLock {
  if (store instanceof FsStore) return fileLockFor(store.location);
  const redis = env['KBUILD_REDIS_URL'];
  return redis ? new RedisPublishLock(redis, store.location) : noPublishLock;
}
