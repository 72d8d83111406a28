import type { ExecutorKind } from '../config/kernels-schema.js';
import type { Arch, KernelIdentity } from '../kernel/identity.js';
import type { BtfSourceName } from '../btf/source-names.js';
import type { ProbeSpec } from './probe-spec.js';

/**
 * What an external-BTF job needs besides its kernel. Everything is in the job
 * (no dependency on the CO-RE job's outcome): it compiles the arch's CO-RE
 * object itself, from the same inputs, so its bytes equal the stored CO-RE
 * artifact's, and cuts the kernel's BTF down to what that object relocates.
 */
export interface ExternalBtfRequest {
  /** `always`: kernels.yaml says btf: false; `auto`: only when the kernel's .config lacks CONFIG_DEBUG_INFO_BTF. */
  readonly when: 'always' | 'auto';
  /** The kernel whose BTF makes the arch's vmlinux.h (the CO-RE job's btfKernel). */
  readonly coreBtfKernel: KernelIdentity;
  /** Where the arch's CO-RE job builds (its executor), so the copy compiled here has the same toolchain. */
  readonly coreExecutor?: ExecutorKind;
  readonly sources: readonly BtfSourceName[];
  readonly archive?: string;
  readonly distroVersion?: string;
}

/** A per-kernel (non-CO-RE) build of one probe. */
export interface NonCoreJob {
  readonly kind: 'non-core';
  readonly probe: ProbeSpec;
  readonly kernel: KernelIdentity;
  /** Chosen in kernels.yaml (the kernel's entry, else its distro's default); absent: the worker's default. */
  readonly executor?: ExecutorKind;
}

/** One CO-RE build per probe and arch, against the BTF of `btfKernel`. */
export interface CoreJob {
  readonly kind: 'core';
  readonly probe: ProbeSpec;
  readonly arch: Arch;
  readonly btfKernel: KernelIdentity;
  /** As for NonCoreJob, taken from the BTF kernel's entry. */
  readonly executor?: ExecutorKind;
}

/**
 * The external BTF one kernel without BTF needs for one probe's CO-RE object:
 * its own job, so it exists for CO-RE-only probes and its failure fails
 * nothing else.
 */
export interface BtfJob {
  readonly kind: 'btf';
  readonly probe: ProbeSpec;
  readonly kernel: KernelIdentity;
  readonly request: ExternalBtfRequest;
}

export type BuildJob = NonCoreJob | CoreJob | BtfJob;

export function jobArch(job: BuildJob): Arch {
  return job.kind === 'core' ? job.arch : job.kernel.arch;
}

export function jobKernel(job: BuildJob): KernelIdentity {
  return job.kind === 'core' ? job.btfKernel : job.kernel;
}

export function jobLabel(job: BuildJob): string {
  if (job.kind === 'core') return `${job.probe.name} CO-RE ${job.arch}`;
  const kernel = `${job.kernel.distro} ${job.kernel.release} ${job.kernel.arch}`;
  return job.kind === 'btf' ? `${job.probe.name} external BTF ${kernel}` : `${job.probe.name} ${kernel}`;
}
