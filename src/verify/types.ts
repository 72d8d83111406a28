import type { KernelIdentity } from '../kernel/identity.js';
import type { VerifyMode } from '../loader/index-schema.js';
import type { EntryCount, InnerMapType, ProgramType, Trigger } from './policy-names.js';

/**
 * The contract between the QEMU verify engine (src/verify/, `verifyKernel`)
 * and what drives it (`kbuild verify`, the verify stage of build and submit).
 * The engine works on local files only; where they came from (a store, an
 * index) is the driver's business, and what it returns goes into the index's
 * per-artifact `verification` entries (IndexVerification, method 'qemu').
 */

/** The opt-in event check: after attaching, trigger the event and require a counter to reach `count`. */
export interface EventCheck {
  /** What the guest does after attaching, `count` times: execve(2) a short-lived program, open a file, connect on loopback, send a UDP packet over lo. */
  readonly trigger: Trigger;
  /** How many times to trigger. */
  readonly count: number;
  /** A BPF map (array or hash, u32 key 0 → u64/u32 counter) whose value must reach `count` after the trigger. */
  readonly counterMap: string;
}

/**
 * A map the project's own loader sizes before loading (max_entries 0 in the
 * object): `maxEntries` a count or the guest's CPUs; `inner`, for a
 * map-in-map declared without an inner template, the inner map the loader
 * creates and hands to libbpf (bpf_map__set_inner_map_fd).
 */
export interface MapPolicy {
  readonly name: string;
  readonly maxEntries?: EntryCount;
  readonly inner?: { readonly type: InnerMapType; readonly keySize: number; readonly valueSize: number; readonly maxEntries: EntryCount };
}

/** Programs (a name or glob) the project's loader attaches somewhere other than their section name says. */
export interface AttachTargetPolicy {
  readonly programs: string;
  /** A raw tracepoint or kprobe function name, or a tracepoint's "category/name". */
  readonly target: string;
}

/** Programs (a name or glob) whose type the project's loader sets, because their section names none. */
export interface ProgramTypePolicy {
  readonly programs: string;
  readonly type: ProgramType;
}

/**
 * How the guest proves a probe works. The proof is load + attach: the
 * verifier accepts every autoloaded program and every program that should
 * be attached attaches. The policy names programs (C identifiers or globs)
 * to load without attaching (`attachSkip`), whose attach failure is
 * reported but allowed (`attachOptional`), and to leave out of the load
 * (`autoloadDisable`); before the load it sizes maps (`maps`) and sets
 * program types (`programTypes`) as the project's loader does. `event` adds
 * the event check.
 */
export interface ProbeCheck {
  readonly event?: EventCheck;
  readonly maps?: readonly MapPolicy[];
  readonly programTypes?: readonly ProgramTypePolicy[];
  readonly attachTargets?: readonly AttachTargetPolicy[];
  readonly attachSkip?: readonly string[];
  readonly attachOptional?: readonly string[];
  /** When given, only these are attached; the rest are loaded only (a project that attaches a few dispatchers and tail-calls the rest). */
  readonly attachOnly?: readonly string[];
  readonly autoloadDisable?: readonly string[];
  /** Maps not created (bpf_map__set_autocreate false): feature maps a project's loader leaves out on some kernels. */
  readonly autocreateDisable?: readonly string[];
  /** When the load fails, the object is loaded again without these (a project's loader that retries without its optional programs). */
  readonly autoloadOptional?: readonly string[];
  /** More policy for some kernels; planning resolves it per kernel (the engine never sees it). */
  readonly kernels?: readonly KernelPolicy[];
}

/** Globs added to a probe's policy for the kernels whose version meets `when` (">=5.8") and whose arch is `arch`. */
export interface KernelPolicy {
  readonly when?: string;
  readonly arch?: 'x86_64' | 'arm64';
  readonly attachSkip?: readonly string[];
  readonly attachOptional?: readonly string[];
  readonly attachOnly?: readonly string[];
  readonly autoloadDisable?: readonly string[];
  readonly autocreateDisable?: readonly string[];
  readonly autoloadOptional?: readonly string[];
  /** The rule applies to cases of this mode only. */
  readonly mode?: 'non-core' | 'core-kernel-btf' | 'core-external-btf';
  /** Not verified where the rule applies. */
  readonly verify?: false;
}

/** What happened to one program of the object. */
export type ProgramResult = 'attached' | 'loaded' | 'skipped' | 'failed';
export interface ProgramReport {
  readonly name: string;
  readonly result: ProgramResult;
  readonly detail?: string;
}

/** A case's result: `inconclusive` when the emulator, not the object, stopped the proof (timeout, boot failure). */
export type CaseResult = 'ok' | 'failed' | 'not-verifiable' | 'inconclusive';

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
  readonly result: CaseResult;
  /** Why, in one line: the libbpf error, "counter stayed 0 after 5 execve", "kernel has no /sys/kernel/btf/vmlinux", ... */
  readonly detail?: string;
  /** Counter value read after the trigger. */
  readonly events?: number;
  /** failed: libbpf's output including the kernel verifier's whole log (the guest keeps its first 256 KiB and last 768 KiB). */
  readonly verifierLog?: string;
  /** Per program, when the object loaded (or the one that failed to load). */
  readonly programs?: readonly ProgramReport[];
  /** core-external-btf: the BTF actually used (given or cut by the engine). */
  readonly btfSha256?: string;
  /** sha256 over object sha256, mode, BTF sha256, kernel image sha256 and guest loader sha256. */
  readonly verifyId: string;
}

export interface VerifyKernelResult {
  readonly kernel: KernelIdentity;
  /**
   * completed: the guest ran every case and powered off. timeout / boot-failed:
   * the cases it did not report are `inconclusive` with the reason in `detail`.
   * not-verifiable: no image, no qemu for the arch.
   */
  readonly outcome: 'completed' | 'timeout' | 'boot-failed' | 'not-verifiable';
  /** `uname -r` the guest printed. */
  readonly bootedRelease?: string;
  readonly seconds: number;
  readonly results: readonly VerifyCaseResult[];
  /** Last lines of the serial console, for errors. */
  readonly consoleTail?: string;
}
