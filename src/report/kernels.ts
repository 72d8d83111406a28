import type { ArtifactIndex, IndexKernel } from '@kbuild/loader';

/** A kernel's identity in the report: two entries naming the same distro, release and arch are one row. */
export const kernelKey = (kernel: Pick<IndexKernel, 'distro' | 'release' | 'arch'>): string => `${kernel.distro}\0${kernel.release}\0${kernel.arch}`;

/**
 * The kernels of the build set as the index shows them: targets of non-CO-RE
 * objects and failures, kernels without BTF, and kernels booted to verify.
 * CO-RE objects name the kernel whose BTF made vmlinux.h, which need not be
 * in the set, so they add no row; nor do CO-RE build failures (same kernel).
 */
export function matrixKernels(index: ArtifactIndex): IndexKernel[] {
  const found = new Map<string, IndexKernel>();
  const add = (kernel: IndexKernel): void => {
    const key = kernelKey(kernel);
    if (!found.has(key)) found.set(key, kernel);
  };
  for (const artifact of index.artifacts) {
    if (artifact.kind === 'non-core') add(artifact.kernel);
    for (const v of artifact.verification) if (v.method === 'qemu' && v.kernel !== undefined) add(v.kernel);
  }
  for (const failure of index.failures) if (failure.kind === 'non-core' || failure.stage === 'verify') add(failure.kernel);
  for (const entry of index.kernelBtf) add(entry.kernel);
  return [...found.values()].sort(compareKernels);
}

const byVersion = new Intl.Collator('en', { numeric: true });

export function compareKernels(a: IndexKernel, b: IndexKernel): number {
  return byVersion.compare(a.distro, b.distro) || byVersion.compare(a.release, b.release) || byVersion.compare(a.arch, b.arch);
}
