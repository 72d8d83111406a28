import { resolve } from 'node:path';
import { builderFor } from '../../builders/registry.js';
import type { ExecutorKind } from '../config/kernels-schema.js';
import type { LoadedKernelsFile } from '../config/load-kernels-file.js';
import type { Arch, KernelIdentity } from '../kernel/identity.js';
import { loadProbeBundle } from './probe-bundle.js';
import { BTF_SOURCES } from '../btf/source-names.js';
import type { BuildJob, ExternalBtfRequest } from './types.js';

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
  const executorOf = (kernel: KernelIdentity): { executor?: ExecutorKind } => {
    const entry = config.kernels.find((k) => k.distro === kernel.distro && k.release === kernel.release && k.arch === kernel.arch);
    const chosen = entry?.executor ?? config.executors?.[kernel.distro];
    return chosen === undefined ? {} : { executor: chosen };
  };
  // Per arch and per kernel, the same for every probe: worked out once.
  const coreTargets = new Map(
    arches.map((arch) => {
      const btfKernel = btfKernelFor(arch, loaded, kernels);
      return [arch, { btfKernel, ...executorOf(btfKernel) }] as const;
    }),
  );
  const kernelTargets = kernels.map((kernel, i) => {
    const core = coreTargets.get(kernel.arch)!;
    const externalBtf = externalBtfRequest(loaded, i, core.btfKernel, core.executor);
    return { kernel, ...executorOf(kernel), ...(externalBtf === undefined ? {} : { externalBtf }) };
  });
  const jobs: BuildJob[] = [];
  for (const probe of config.probes) {
    const bundle = await loadProbeBundle(probe.name, resolve(baseDir, probe.source), probe.tweaks);
    for (const [arch, core] of coreTargets) jobs.push({ kind: 'core', probe: bundle, arch, ...core });
    for (const target of kernelTargets) jobs.push({ kind: 'non-core', probe: bundle, ...target });
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

/** Kernels with btf: true need nothing; false always gets external BTF, auto when its .config says so. */
function externalBtfRequest(
  loaded: LoadedKernelsFile,
  i: number,
  coreBtfKernel: KernelIdentity,
  coreExecutor: ExecutorKind | undefined,
): ExternalBtfRequest | undefined {
  const entry = loaded.config.kernels[i];
  if (entry === undefined || entry.btf === true) return undefined;
  const settings = loaded.config.btf;
  return {
    when: entry.btf === false ? 'always' : 'auto',
    coreBtfKernel,
    ...(coreExecutor === undefined ? {} : { coreExecutor }),
    sources: settings?.sources ?? [...BTF_SOURCES],
    ...(settings?.archive === undefined ? {} : { archive: settings.archive }),
    ...(entry.distroVersion === undefined ? {} : { distroVersion: entry.distroVersion }),
  };
}
