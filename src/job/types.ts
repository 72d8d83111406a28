import type { ExecutorKind } from '../config/kernels-schema.js';
import type { Arch, KernelIdentity } from '../kernel/identity.js';
import type { ProbeBundle } from './probe-bundle.js';

/** A per-kernel (non-CO-RE) build of one probe. */
export interface NonCoreJob {
  readonly kind: 'non-core';
  readonly probe: ProbeBundle;
  readonly kernel: KernelIdentity;
  /** Chosen in kernels.yaml (the kernel's entry, else its distro's default); absent: the worker's default. */
  readonly executor?: ExecutorKind;
}

/** One CO-RE build per probe and arch, against the BTF of `btfKernel`. */
export interface CoreJob {
  readonly kind: 'core';
  readonly probe: ProbeBundle;
  readonly arch: Arch;
  readonly btfKernel: KernelIdentity;
  /** As for NonCoreJob, taken from the BTF kernel's entry. */
  readonly executor?: ExecutorKind;
}

export type BuildJob = NonCoreJob | CoreJob;

export function jobArch(job: BuildJob): Arch {
  return job.kind === 'core' ? job.arch : job.kernel.arch;
}

export function jobKernel(job: BuildJob): KernelIdentity {
  return job.kind === 'core' ? job.btfKernel : job.kernel;
}

export function jobLabel(job: BuildJob): string {
  if (job.kind === 'core') return `${job.probe.name} CO-RE ${job.arch}`;
  return `${job.probe.name} ${job.kernel.distro} ${job.kernel.release} ${job.kernel.arch}`;
}
