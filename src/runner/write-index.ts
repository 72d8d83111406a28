import { ArtifactIndex, INDEX_SCHEMA_VERSION, type IndexArtifact, type IndexFailure } from '../loader/index-schema.js';
import { INDEX_KEY } from '../store/keys.js';
import type { ArtifactStore } from '../store/types.js';
import { jobArch, jobKernel } from '../job/types.js';
import type { JobResult } from './run-jobs.js';
import { kernelBtfFromArtifacts } from '../btf/index-btf.js';

/**
 * The index lists every artifact of the build set and every build that failed, in a stable order.
 * `untouched` are records of jobs that did not run (an interrupted build): what the store still
 * holds for them, so the index never disagrees with the store.
 */
export function indexFromResults(results: readonly JobResult[], generator: string, untouched: readonly IndexArtifact[] = []): ArtifactIndex {
  const artifacts = [...results.flatMap((r) => (r.artifact === undefined ? [] : [r.artifact])), ...untouched];
  artifacts.sort((a, b) => a.path.localeCompare(b.path));
  const failures: IndexFailure[] = results
    .filter((r) => r.status === 'failed')
    .map((r) => ({
      probe: r.job.probe.name,
      kind: r.job.kind,
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
    kernelBtf: kernelBtfFromArtifacts(artifacts),
  });
}

export async function writeIndex(store: ArtifactStore, index: ArtifactIndex): Promise<void> {
  await store.putBytes(INDEX_KEY, Buffer.from(`${JSON.stringify(index, null, 2)}\n`));
}
