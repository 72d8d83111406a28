import { resolve } from 'node:path';
import { builderFor } from '../../builders/registry.js';
import type { LoadedKernelsFile } from '../config/load-kernels-file.js';
import type { Arch, KernelIdentity } from '../kernel/identity.js';
import { loadProbeBundle } from './probe-bundle.js';
import type { BuildJob } from './types.js';

export interface BuildPlan {
  readonly jobs: readonly BuildJob[];
  readonly mirrors: Readonly<Record<string, string>>;
}

/** kernels.yaml → one non-CO-RE job per kernel × probe, one CO-RE job per arch × probe. */
export async function planBuild(loaded: LoadedKernelsFile): Promise<BuildPlan> {
  const { config, baseDir } = loaded;
  const kernels: KernelIdentity[] = config.kernels.map((k) => ({
    distro: k.distro,
    release: k.release,
    arch: k.arch,
    ...(k.version === undefined ? {} : { version: k.version }),
  }));
  const arches = [...new Set(kernels.map((k) => k.arch))];
  const jobs: BuildJob[] = [];
  for (const probe of config.probes) {
    const bundle = await loadProbeBundle(probe.name, resolve(baseDir, probe.source), probe.tweaks);
    for (const arch of arches) jobs.push({ kind: 'core', probe: bundle, arch, btfKernel: btfKernelFor(arch, loaded, kernels) });
    for (const kernel of kernels) jobs.push({ kind: 'non-core', probe: bundle, kernel });
  }
  return { jobs, mirrors: config.mirrors ?? {} };
}

function btfKernelFor(arch: Arch, loaded: LoadedKernelsFile, kernels: readonly KernelIdentity[]): KernelIdentity {
  const ref = loaded.config.core?.btfFrom?.[arch];
  if (ref !== undefined) return { distro: ref.distro, release: ref.release, arch };
  // Only some builders fetch kernel images (the BTF source): prefer the first kernel of one of them.
  const first = kernels.find((k) => k.arch === arch && builderFor(k.distro)?.supportsImages === true) ?? kernels.find((k) => k.arch === arch);
  if (first === undefined) throw new Error(`no kernel of arch ${arch}`);
  return { distro: first.distro, release: first.release, arch };
}
