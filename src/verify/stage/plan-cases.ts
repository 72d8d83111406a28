import type { KernelIdentity } from '../../kernel/identity.js';
import type { IndexArtifact, IndexBtfBlob, IndexKernelBtf, VerifyMode } from '../../loader/index-schema.js';
import { choiceForCase, probeCheck, type ProbeCheckChoice } from './probe-check.js';

/** One object to load in one kernel in one mode, still in terms of the store (nothing downloaded yet). */
export interface PlannedCase {
  readonly probe: string;
  readonly mode: VerifyMode;
  readonly artifact: IndexArtifact;
  /** core-external-btf: the blob the index lists for this kernel and this very CO-RE object; absent: the engine cuts one. */
  readonly btf?: IndexBtfBlob;
  readonly check: ProbeCheckChoice;
}

export interface KernelPlan {
  readonly kernel: KernelIdentity;
  readonly cases: readonly PlannedCase[];
}

export interface CasePlanInput {
  /** The kernels to boot (the build set, or what the index lists). */
  readonly kernels: readonly KernelIdentity[];
  readonly artifacts: readonly IndexArtifact[];
  readonly kernelBtf: readonly IndexKernelBtf[];
  /** Checks by probe name (kernels.yaml); a probe without one gets the default check. */
  readonly checks?: ReadonlyMap<string, ProbeCheckChoice>;
}

export function sameKernel(a: Pick<KernelIdentity, 'distro' | 'release' | 'arch'>, b: Pick<KernelIdentity, 'distro' | 'release' | 'arch'>): boolean {
  return a.distro === b.distro && a.release === b.release && a.arch === b.arch;
}

export function kernelId(k: Pick<KernelIdentity, 'distro' | 'release' | 'arch'>): string {
  return `${k.distro}/${k.release}/${k.arch}`;
}

/**
 * Per kernel: its own non-CO-RE object of every probe (mode non-core) and the
 * CO-RE object of its arch, once with the kernel's BTF and once with the
 * external BTF (the index's blob for that kernel when there is one). Probes
 * with no artifact for a kernel (the build failed) have nothing to verify.
 */
export function planCases(input: CasePlanInput): KernelPlan[] {
  const probes = [...new Set(input.artifacts.map((a) => a.probe))].sort();
  const seen = new Set<string>();
  const plans: KernelPlan[] = [];
  for (const kernel of input.kernels) {
    if (seen.has(kernelId(kernel))) continue;
    seen.add(kernelId(kernel));
    const cases: PlannedCase[] = [];
    for (const probe of probes) {
      const choice = input.checks?.get(probe) ?? probeCheck(probe);
      const own = input.artifacts.find((a) => a.probe === probe && a.kind === 'non-core' && sameKernel(a.kernel, kernel));
      if (own !== undefined) cases.push({ probe, mode: 'non-core', artifact: own, check: choiceForCase(choice, kernel, 'non-core') });
      const core = input.artifacts.find((a) => a.probe === probe && a.kind === 'core' && a.arch === kernel.arch);
      if (core === undefined) continue;
      cases.push({ probe, mode: 'core-kernel-btf', artifact: core, check: choiceForCase(choice, kernel, 'core-kernel-btf') });
      const btf = externalBtfBlob(input.kernelBtf, kernel, core);
      cases.push({ probe, mode: 'core-external-btf', artifact: core, check: choiceForCase(choice, kernel, 'core-external-btf'), ...(btf === undefined ? {} : { btf }) });
    }
    if (cases.length > 0) plans.push({ kernel, cases });
  }
  return plans;
}

function externalBtfBlob(list: readonly IndexKernelBtf[], kernel: KernelIdentity, core: IndexArtifact): IndexBtfBlob | undefined {
  const entry = list.find((k) => sameKernel(k.kernel, kernel));
  const object = entry?.objects.find((o) => o.core === core.path && o.coreSha256 === core.sha256);
  return object?.btf;
}

/** The kernels an index knows of: those with a per-kernel object or an external BTF. */
export function kernelsOfIndex(artifacts: readonly IndexArtifact[], kernelBtf: readonly IndexKernelBtf[]): KernelIdentity[] {
  const all = [...artifacts.filter((a) => a.kind === 'non-core').map((a) => a.kernel), ...kernelBtf.map((k) => k.kernel)];
  const byId = new Map<string, KernelIdentity>();
  for (const k of all) {
    if (!byId.has(kernelId(k))) byId.set(kernelId(k), { distro: k.distro, release: k.release, arch: k.arch, ...(k.version === undefined ? {} : { version: k.version }) });
  }
  return [...byId.values()].sort((a, b) => kernelId(a).localeCompare(kernelId(b)));
}
