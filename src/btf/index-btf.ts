import type { IndexArtifact, IndexKernelBtf } from '@kbuild/loader';

/**
 * The index's per-kernel view of external BTF, gathered from the records of
 * per-kernel jobs (the source of truth, so merged or partial indexes can
 * recompute it): for each kernel, which blob serves which CO-RE object.
 */
export function kernelBtfFromArtifacts(artifacts: readonly IndexArtifact[]): IndexKernelBtf[] {
  const byKernel = new Map<string, IndexKernelBtf>();
  for (const artifact of artifacts) {
    if (artifact.kind !== 'non-core' || artifact.externalBtf === undefined) continue;
    const { distro, release, arch, version } = artifact.kernel;
    const key = `${distro}/${release}/${arch}/${version ?? ''}`;
    let entry = byKernel.get(key);
    if (entry === undefined) {
      entry = { kernel: { distro, release, arch, ...(version === undefined ? {} : { version }) }, objects: [] };
      byKernel.set(key, entry);
    }
    entry.objects.push({ probe: artifact.probe, ...artifact.externalBtf });
  }
  const list = [...byKernel.values()];
  for (const entry of list) entry.objects.sort((a, b) => a.core.localeCompare(b.core));
  return list.sort((a, b) => `${a.kernel.arch}/${a.kernel.release}`.localeCompare(`${b.kernel.arch}/${b.kernel.release}`));
}
