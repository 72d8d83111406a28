import { kernelBtfFromArtifacts } from '../btf/index-btf.js';
import { ArtifactIndex, type IndexArtifact, type IndexFailure } from '../loader/index-schema.js';

/** One build target: a failure and an artifact with the same target are about the same build. */
function targetOf(x: Pick<IndexArtifact | IndexFailure, 'probe' | 'kind' | 'arch' | 'kernel'>): string {
  return JSON.stringify([x.probe, x.kind, x.arch, x.kernel.distro, x.kernel.release]);
}

/**
 * What publishing writes: the stored index with the incoming one laid over it.
 * Artifacts are replaced by path (a rebuild wins), everything else published
 * before is kept (another build set's entries are not ours to drop). A stored
 * failure goes away once the incoming index built or re-failed that target.
 */
export function mergeIndex(stored: ArtifactIndex | undefined, incoming: ArtifactIndex): ArtifactIndex {
  if (stored === undefined) return incoming;
  const artifacts = new Map(stored.artifacts.map((a) => [a.path, a]));
  for (const artifact of incoming.artifacts) artifacts.set(artifact.path, artifact);
  const settled = new Set([...incoming.artifacts, ...incoming.failures].map(targetOf));
  const failures = [...stored.failures.filter((f) => !settled.has(targetOf(f))), ...incoming.failures];
  failures.sort((a, b) => targetOf(a).localeCompare(targetOf(b)));
  const merged = [...artifacts.values()].sort((a, b) => a.path.localeCompare(b.path));
  return ArtifactIndex.parse({
    ...incoming,
    artifacts: merged,
    failures,
    // Derived from the artifacts' records, so other build sets' external BTFs stay listed.
    kernelBtf: kernelBtfFromArtifacts(merged),
  });
}
