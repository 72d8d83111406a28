import type { KernelIdentity } from '../kernel/identity.js';
import type { VerifyMode } from '../loader/index-schema.js';

/**
 * The contract between the QEMU verify engine (src/verify/, `verifyKernel`)
 * and what drives it (`kbuild verify`, the verify stage of build and submit).
 * The engine works on local files only; where they came from (a store, an
 * index) is the driver's business, and what it returns goes into the index's
 * per-artifact `verification` entries (IndexVerification, method 'qemu').
 */

/** How the guest proves a probe works: what to trigger and which counter must rise. */
export interface ProbeCheck {
  /** What the guest does after attaching: `execve` runs N short-lived execve(2) calls. */
  readonly trigger: 'execve';
  /** How many times to trigger. */
  readonly count: number;
  /** A BPF map (array or hash, u32 key 0 → u64/u32 counter) whose value must reach `count` after the trigger. */
  readonly counterMap: string;
}

/** One object to load in one booted kernel, in one mode. */
export interface VerifyCase {
  readonly probe: string;
  readonly mode: VerifyMode;
  /** Local file of the object (non-CO-RE for `non-core`, the arch's CO-RE object otherwise). */
  readonly objectFile: string;
  readonly objectSha256: string;
  /** The artifact's store key (index `path`), echoed in results. */
  readonly artifactPath: string;
  /** core-external-btf: a local minimized BTF file. Absent: the engine cuts one from the kernel image's BTF (and says so in `detail`). */
  readonly btfFile?: string;
  readonly btfSha256?: string;
  readonly check: ProbeCheck;
}

export interface VerifyKernelRequest {
  readonly kernel: KernelIdentity;
  readonly cases: readonly VerifyCase[];
  /** Wall-clock limit for the whole boot; QEMU is killed (process group) when it passes. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Where downloads (kernel images, arm64 sysroot debs) and built guest loaders are cached. */
  readonly cacheDir: string;
  /** Distro mirror override (as for header fetches); default: the builder's own. */
  readonly mirror?: string;
}

export interface VerifyCaseResult {
  readonly case: VerifyCase;
  readonly result: 'ok' | 'failed' | 'not-verifiable';
  /** Why, in one line: the libbpf error, "counter stayed 0 after 5 execve", "kernel has no /sys/kernel/btf/vmlinux", ... */
  readonly detail?: string;
  /** Counter value read after the trigger. */
  readonly events?: number;
  /** failed: libbpf's output including the kernel verifier's log (truncated to 64 KiB). */
  readonly verifierLog?: string;
  /** core-external-btf: the BTF actually used (given or cut by the engine). */
  readonly btfSha256?: string;
  /** sha256 over object sha256, mode, BTF sha256, kernel image sha256 and guest loader sha256. */
  readonly verifyId: string;
}

export interface VerifyKernelResult {
  readonly kernel: KernelIdentity;
  /**
   * completed: the guest ran every case and powered off. timeout / boot-failed:
   * every case is `failed` (timeout) or `not-verifiable` (boot-failed: no image,
   * no qemu for the arch) with the reason in `detail`.
   */
  readonly outcome: 'completed' | 'timeout' | 'boot-failed' | 'not-verifiable';
  /** `uname -r` the guest printed. */
  readonly bootedRelease?: string;
  readonly seconds: number;
  readonly results: readonly VerifyCaseResult[];
  /** Last lines of the serial console, for errors. */
  readonly consoleTail?: string;
}
