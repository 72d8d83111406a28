import { builderFor } from '../../builders/registry.js';
import type { ExecutorKind } from '../config/kernels-schema.js';
import type { LoadedKernelsFile } from '../config/load-kernels-file.js';
import type { Arch, KernelIdentity } from '../kernel/identity.js';
import type { ArtifactStore } from '../store/types.js';
import { BTF_SOURCES } from '../btf/source-names.js';
import { cacheBundle, storeBundle } from './bundle/bundle.js';
import { loadProbe } from './bundle/load-probe.js';
import type { ProbeSpec } from './probe-spec.js';
import type { BuildJob, ExternalBtfRequest } from './types.js';

export interface BuildPlan {
  readonly jobs: readonly BuildJob[];
  readonly mirrors: Readonly<Record<string, string>>;
  /** Each probe's sources bundle, by sha256: put in the store (and cache) before any job runs. */
  readonly bundles: ReadonlyMap<string, Buffer>;
}

/**
 * kernels.yaml → per probe: a non-CO-RE job per kernel and a CO-RE job per
 * arch (as its `builds` says), and for a CO-RE probe an external-BTF job per
 * kernel that may lack BTF (btf: false, or auto).
 */
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
    return { kernel, ...executorOf(kernel), externalBtf: externalBtfRequest(loaded, i, core.btfKernel, core.executor) };
  });
  const jobs: BuildJob[] = [];
  const btfJobs: BuildJob[] = [];
  const bundles = new Map<string, Buffer>();
  for (const [i, probe] of config.probes.entries()) {
    const { spec, tar } = await loadProbe(probe, i, baseDir, loaded.locate);
    bundles.set(spec.bundle.sha256, tar);
    const builds = new Set(spec.builds);
    if (builds.has('core')) for (const [arch, core] of coreTargets) jobs.push({ kind: 'core', probe: spec, arch, ...core });
    for (const { kernel, executor, externalBtf } of kernelTargets) {
      if (builds.has('non-core')) jobs.push({ kind: 'non-core', probe: spec, kernel, ...(executor === undefined ? {} : { executor }) });
      if (builds.has('core') && externalBtf !== undefined) btfJobs.push({ kind: 'btf', probe: spec, kernel, request: externalBtf });
    }
  }
  // External-BTF jobs last: by the time a worker takes one, the CO-RE object it is cut for is often stored, and is reused rather than compiled again.
  return { jobs: [...jobs, ...btfJobs], mirrors: config.mirrors ?? {}, bundles };
}

/** The probes of a plan, once each (jobs share their spec). */
export function planProbes(jobs: readonly BuildJob[]): ProbeSpec[] {
  return [...new Map(jobs.map((j) => [j.probe.digest, j.probe])).values()];
}

/** Uploads the plan's bundles (content-addressed: an unchanged project uploads nothing) and keeps them in the local cache. */
export async function publishBundles(plan: BuildPlan, store: ArtifactStore, cacheDir: string): Promise<void> {
  for (const probe of planProbes(plan.jobs)) {
    const tar = plan.bundles.get(probe.bundle.sha256);
    if (tar === undefined) continue;
    await storeBundle(store, tar, probe.bundle);
    await cacheBundle(cacheDir, tar, probe.bundle);
  }
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
