import { INDEX_SCHEMA_VERSION, type ArtifactIndex, type IndexCoreCheck } from '@kbuild/loader';
import type { CoreCheckOutcome } from './run-check.js';

/**
 * Lays check results over the index as it is under the publish lock: an
 * entry lands only on the artifact whose bytes were checked (same path and
 * sha256) and replaces that kernel's earlier entry; entries of other builds
 * of the object (stale) are dropped.
 */
export function applyCoreCheck(index: ArtifactIndex, outcomes: readonly CoreCheckOutcome[]): ArtifactIndex {
  const byPath = new Map<string, CoreCheckOutcome[]>();
  for (const o of outcomes) byPath.set(o.path, [...(byPath.get(o.path) ?? []), o]);
  const same = (a: IndexCoreCheck, b: IndexCoreCheck): boolean =>
    a.kernel.distro === b.kernel.distro && a.kernel.release === b.kernel.release && a.kernel.arch === b.kernel.arch;
  const artifacts = index.artifacts.map((artifact) => {
    const mine = (byPath.get(artifact.path) ?? []).filter((o) => o.entry.coreSha256 === artifact.sha256).map((o) => o.entry);
    if (mine.length === 0) return artifact;
    const kept = (artifact.coreCheck ?? []).filter((c) => c.coreSha256 === artifact.sha256 && !mine.some((m) => same(m, c)));
    const coreCheck = [...kept, ...mine].sort((a, b) => `${a.kernel.distro} ${a.kernel.release}`.localeCompare(`${b.kernel.distro} ${b.kernel.release}`, 'en', { numeric: true }));
    return { ...artifact, coreCheck };
  });
  return { ...index, schemaVersion: INDEX_SCHEMA_VERSION, artifacts };
}
