import type { CrawledKernel } from '../../builders/types.js';
import type { KernelEntry } from '../config/kernels-schema.js';
import type { LoadedKernelsFile } from '../config/load-kernels-file.js';
import type { Arch } from '../kernel/identity.js';
import type { ArtifactIndex, IndexKernel } from '@kbuild/loader';

/**
 * `kbuild sync`'s decision: which crawled kernels the store's index does not
 * hold yet. A kernel is held once the index names it for every probe that
 * builds per kernel (an object, or a build failure: a kernel that failed is
 * rebuilt by `kbuild build`, not by every cron run); with only CO-RE probes,
 * once any entry names it (external BTF, a QEMU verification).
 */

export interface SyncKernel extends CrawledKernel {
  readonly distro: string;
}

const kernelKey = (k: Pick<IndexKernel, 'distro' | 'release' | 'arch'>): string => `${k.distro}/${k.release}/${k.arch}`;

function heldTargets(index: ArtifactIndex | undefined): Set<string> {
  const held = new Set<string>();
  if (index === undefined) return held;
  for (const a of index.artifacts) {
    if (a.kind === 'non-core') held.add(`${kernelKey(a.kernel)}#${a.probe}`).add(kernelKey(a.kernel));
    for (const v of a.verification) if (v.kernel !== undefined) held.add(kernelKey(v.kernel));
  }
  for (const f of index.failures) {
    if (f.kind === 'non-core' && (f.stage ?? 'build') === 'build') held.add(`${kernelKey(f.kernel)}#${f.probe}`);
    held.add(kernelKey(f.kernel));
  }
  for (const k of index.kernelBtf) held.add(kernelKey(k.kernel));
  return held;
}

/** The crawled kernels (each once) the index does not hold for `perKernelProbes` (the probes with a non-CO-RE build). */
export function kernelsToBuild(crawled: readonly SyncKernel[], index: ArtifactIndex | undefined, perKernelProbes: readonly string[]): SyncKernel[] {
  const held = heldTargets(index);
  const seen = new Set<string>();
  return crawled.filter((k) => {
    const key = kernelKey(k);
    if (seen.has(key)) return false;
    seen.add(key);
    return perKernelProbes.length === 0 ? !held.has(key) : perKernelProbes.some((probe) => !held.has(`${key}#${probe}`));
  });
}

/**
 * kernels.yaml with its kernels replaced by the new ones. The CO-RE object of
 * an arch keeps its vmlinux.h source: core.btfFrom when set, else the first
 * kernel of that arch in kernels.yaml (what `kbuild build` of the file takes),
 * else the kernel the stored CO-RE object was made from, so that a sync does
 * not swap the object every kernel already uses.
 */
export function syncKernelSet(loaded: LoadedKernelsFile, added: readonly SyncKernel[], index: ArtifactIndex | undefined): LoadedKernelsFile {
  const { config } = loaded;
  const kernels: KernelEntry[] = added.map((k) => ({
    distro: k.distro,
    release: k.release,
    arch: k.arch,
    btf: 'auto',
    ...(k.version === undefined ? {} : { version: k.version }),
  }));
  const btfFrom: Partial<Record<Arch, { distro: string; release: string }>> = { ...config.core?.btfFrom };
  for (const arch of new Set(added.map((k) => k.arch))) {
    const from =
      btfFrom[arch] ??
      config.kernels.find((k) => k.arch === arch) ??
      index?.artifacts.find((a) => a.kind === 'core' && a.arch === arch)?.kernel;
    if (from !== undefined) btfFrom[arch] = { distro: from.distro, release: from.release };
  }
  return { ...loaded, config: { ...config, kernels, core: { ...config.core, btfFrom } }, warnings: [] };
}
