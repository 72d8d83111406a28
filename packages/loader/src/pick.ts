import { UnknownProbeError } from './errors.js';
import type { ArtifactIndex, IndexArtifact, IndexKernelBtf, VerifyMode } from './index-schema.js';
import type { HostIdentity } from './host.js';

export type PickMode = 'non-core' | 'core' | 'core+external-btf';

export interface Rejection {
  readonly path: string;
  readonly kind: IndexArtifact['kind'];
  readonly reason: string;
}

/** An external BTF file libbpf needs for a CO-RE object (`btf_custom_path`), as listed in the index. */
export interface PickedBtf {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** `minimized`: cut to what this object relocates against; `full`: the kernel's whole BTF (fallback). */
  readonly kind: 'minimized' | 'full';
}

export interface PickResult {
  readonly host: HostIdentity;
  readonly probe: string;
  /** Undefined when nothing in the index can run on this host. */
  readonly choice?: { readonly artifact: IndexArtifact; readonly mode: PickMode; readonly reason: string; readonly btf?: PickedBtf };
  readonly rejected: readonly Rejection[];
  /** Set when the only way forward is an external BTF the index does not yet provide. */
  readonly needs?: string;
}

/**
 * Picks the artifact for one probe: an exact non-CO-RE match first (no BTF
 * needed, built against this very kernel's headers), else the CO-RE object of
 * the host's arch when the kernel carries its own BTF, else that CO-RE object
 * with the external BTF the index lists for this kernel (minimized; the full
 * BTF only when no minimized one exists). Every option not taken is listed
 * with the reason, so "unsupported kernel" is never a mystery.
 */
export interface PickOptions {
  /**
   * Skip the exact non-CO-RE match and take the CO-RE object (with the kernel's
   * own or an external BTF): for agents that need CO-RE-only features, or whose
   * per-kernel object failed to load on this host.
   */
  readonly preferCore?: boolean;
  /**
   * Only artifacts with an ok QEMU verification for this very kernel (distro,
   * release, arch) in the mode they would be loaded in (an inconclusive one is
   * unproven). Without it, an artifact whose verification there failed is
   * still never chosen; an inconclusive one is chosen.
   */
  readonly requireVerified?: boolean;
}

/** Throws E_UNKNOWN_PROBE (UnknownProbeError) when the index has no artifact of `probe` at all. */
export function pick(index: ArtifactIndex, host: HostIdentity, probe: string, options: PickOptions = {}): PickResult {
  const candidates = index.artifacts.filter((a) => a.probe === probe);
  if (candidates.length === 0) throw new UnknownProbeError(probe, [...new Set(index.artifacts.map((a) => a.probe))].sort());
  const rejected: Rejection[] = [];
  const reject = (artifact: IndexArtifact, reason: string): void => {
    rejected.push({ path: artifact.path, kind: artifact.kind, reason });
  };
  const require = options.requireVerified === true;
  let exact: IndexArtifact | undefined;
  let core: IndexArtifact | undefined;
  for (const artifact of candidates) {
    const mismatch = mismatchReason(artifact, host);
    if (mismatch !== undefined) reject(artifact, mismatch);
    else if (artifact.kind === 'non-core') exact ??= artifact;
    else core ??= artifact;
  }
  let passedOver = false;
  if (exact !== undefined && options.preferCore === true && core !== undefined) {
    reject(exact, 'CO-RE was asked for (prefer-core)');
    exact = undefined;
    passedOver = true;
  }
  if (exact !== undefined) {
    const problem = verificationProblem(exact, host, 'non-core', require);
    if (problem === undefined) {
      if (core !== undefined) reject(core, 'an exact non-CO-RE match for this kernel is preferred');
      return { host, probe, choice: { artifact: exact, mode: 'non-core', reason: `built for ${host.distro} ${host.release} ${host.arch}${verifiedNote(exact, host, 'non-core')}` }, rejected };
    }
    reject(exact, problem);
  }
  if (core !== undefined && host.hasBtf) {
    const problem = verificationProblem(core, host, 'core-kernel-btf', require);
    if (problem === undefined) {
      const why = passedOver ? 'CO-RE was asked for over the exact build (prefer-core)' : exact === undefined ? 'no exact build for this kernel' : 'the exact build was rejected';
      return { host, probe, choice: { artifact: core, mode: 'core', reason: `${why}; the kernel has BTF for CO-RE relocations${verifiedNote(core, host, 'core-kernel-btf')}` }, rejected };
    }
    reject(core, problem);
    return { host, probe, rejected, ...(require ? { needs: needsVerified(host, probe) } : {}) };
  }
  if (core !== undefined) {
    const external = externalBtfFor(index.kernelBtf, host, probe, core);
    if ('btf' in external) {
      const problem = verificationProblem(core, host, 'core-external-btf', require);
      if (problem === undefined) {
        return { host, probe, choice: { artifact: core, mode: 'core+external-btf', reason: `${external.reason}${verifiedNote(core, host, 'core-external-btf')}`, btf: external.btf }, rejected };
      }
      reject(core, problem);
      return { host, probe, rejected, ...(require ? { needs: needsVerified(host, probe) } : {}) };
    }
    reject(core, `the kernel has no /sys/kernel/btf/vmlinux and ${external.missing}`);
    return { host, probe, rejected, needs: `an external BTF for ${host.distro} ${host.release} ${host.arch} (${external.missing})` };
  }
  return { host, probe, rejected, ...(require && exact !== undefined ? { needs: needsVerified(host, probe) } : {}) };
}

/** The index's QEMU entries of one artifact for the host's kernel in one mode. */
function qemuEntries(artifact: IndexArtifact, host: HostIdentity, mode: VerifyMode): IndexArtifact['verification'] {
  return artifact.verification.filter(
    (v) => v.method === 'qemu' && v.mode === mode && v.kernel !== undefined && v.kernel.distro === host.distro && v.kernel.release === host.release && v.kernel.arch === host.arch,
  );
}

/**
 * Why an artifact must not be loaded on this host in `mode`: its QEMU
 * verification in this very kernel failed, or (required) none passed.
 */
function verificationProblem(artifact: IndexArtifact, host: HostIdentity, mode: VerifyMode, require: boolean): string | undefined {
  const predicted = mode === 'non-core' ? undefined : predictedIncompatible(artifact, host);
  if (predicted !== undefined) return predicted;
  const entries = qemuEntries(artifact, host, mode);
  const failed = entries.find((v) => v.result === 'failed');
  if (failed !== undefined) return `failed QEMU verification in ${host.distro} ${host.release} ${host.arch} (${mode}): ${firstLine(failed.detail ?? 'failed')}`;
  // Inconclusive (the emulator timed out or could not boot the kernel) proves nothing either way: never a reason to refuse.
  if (!require || entries.some((v) => v.result === 'ok')) return undefined;
  const inconclusive = entries.find((v) => v.result === 'inconclusive');
  const unverifiable = entries.find((v) => v.result === 'not-verifiable');
  const why =
    inconclusive !== undefined
      ? `its verification was inconclusive, so it is unproven: ${firstLine(inconclusive.detail ?? 'no reason given')}`
      : unverifiable === undefined
        ? 'the index lists none'
        : `it was not verifiable: ${firstLine(unverifiable.detail ?? 'no reason given')}`;
  return `no ok QEMU verification for ${host.distro} ${host.release} ${host.arch} in mode ${mode} (verified artifacts are required; ${why})`;
}

/**
 * The offline CO-RE check (`kbuild check`) found a relocation the program
 * reaches and this kernel's BTF cannot resolve: libbpf would poison it and the
 * verifier refuse the load. Entries for another build of the object are stale.
 */
function predictedIncompatible(artifact: IndexArtifact, host: HostIdentity): string | undefined {
  const entry = artifact.coreCheck?.find(
    (c) => c.result === 'incompatible' && c.coreSha256 === artifact.sha256 && c.kernel.distro === host.distro && c.kernel.release === host.release && c.kernel.arch === host.arch,
  );
  if (entry === undefined) return undefined;
  const failure = entry.failures?.[0];
  const what = failure === undefined ? firstLine(entry.detail ?? 'incompatible') : `relocation ${failure.relocation} (${failure.kind}) of ${failure.type}${failure.field === '' ? '' : `.${failure.field}`} finds no target in its BTF`;
  return `predicted incompatible with ${host.distro} ${host.release} ${host.arch} by the offline CO-RE check: ${what}`;
}

function verifiedNote(artifact: IndexArtifact, host: HostIdentity, mode: VerifyMode): string {
  const ok = qemuEntries(artifact, host, mode).find((v) => v.result === 'ok');
  return ok === undefined ? '' : `; verified in QEMU on this kernel (${mode}${ok.events === undefined ? '' : `, ${ok.events} events`})`;
}

function needsVerified(host: HostIdentity, probe: string): string {
  return `an artifact of probe "${probe}" with an ok QEMU verification for ${host.distro} ${host.release} ${host.arch} (run \`kbuild verify\` on the store)`;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

type ExternalChoice = { readonly btf: PickedBtf; readonly reason: string } | { readonly missing: string };

/** The BTF the index lists for this kernel and this very CO-RE object (same sha256 as when the BTF was cut). */
function externalBtfFor(kernels: readonly IndexKernelBtf[], host: HostIdentity, probe: string, core: IndexArtifact): ExternalChoice {
  const entry = kernels.find(
    (k) => k.kernel.distro === host.distro && k.kernel.release === host.release && k.kernel.arch === host.arch &&
      (k.kernel.version === undefined || versionMatches(k.kernel.version, host.version)),
  );
  if (entry === undefined) return { missing: 'the index lists no external BTF for this kernel' };
  const object = entry.objects.find((o) => o.probe === probe && o.core === core.path);
  if (object === undefined) return { missing: `the index lists external BTF for this kernel, but none for ${core.path}` };
  if (object.coreSha256 !== core.sha256) {
    return { missing: `the external BTF was cut for another build of ${core.path} (sha256 ${object.coreSha256.slice(0, 12)}, index has ${core.sha256.slice(0, 12)})` };
  }
  const btf: PickedBtf = { path: object.btf.path, size: object.btf.size, sha256: object.btf.sha256, kind: object.kind };
  const from = `from ${object.source.kind === 'dbg' ? 'the debug package' : object.source.kind === 'image' ? 'the kernel image' : 'the BTF archive'}`;
  if (object.kind === 'minimized') {
    return { btf, reason: `the kernel has no BTF; minimized BTF ${from} (libbpf relocations checked against the full BTF: ${object.relocationCheck.relocations} identical)` };
  }
  return { btf, reason: `the kernel has no BTF and no minimized BTF exists (${object.relocationCheck.detail ?? 'minimization failed'}); falling back to the full BTF ${from}` };
}

function mismatchReason(artifact: IndexArtifact, host: HostIdentity): string | undefined {
  if (artifact.arch !== host.arch) return `built for ${artifact.arch}, host is ${host.arch}`;
  if (artifact.kind === 'core') return undefined;
  const k = artifact.kernel;
  if (k.distro !== host.distro || k.release !== host.release) {
    return `built for ${k.distro} ${k.release}, host runs ${host.distro} ${host.release}`;
  }
  if (k.version !== undefined && !versionMatches(k.version, host.version)) {
    return `built for kernel version "${k.version}", host's uname -v is "${host.version}"`;
  }
  return undefined;
}

/**
 * A bare number is driverkit's kernelversion: the build number `uname -v`
 * starts with (`#1 SMP ...`). Anything else must appear in `uname -v`
 * (e.g. Debian's package version "6.1.176-1").
 */
export function versionMatches(wanted: string, unameV: string): boolean {
  if (/^#?[0-9]+$/.test(wanted)) return /^#([0-9]+)/.exec(unameV)?.[1] === wanted.replace(/^#/, '');
  return unameV.includes(wanted);
}

export function describePick(result: PickResult): string {
  const lines: string[] = [];
  const h = result.host;
  lines.push(`host: ${h.distro} ${h.release} ${h.arch} (BTF ${h.hasBtf ? 'present' : 'absent'})`);
  if (result.choice !== undefined) {
    lines.push(`picked ${result.choice.artifact.path} [${result.choice.mode}]: ${result.choice.reason}`);
    const btf = result.choice.btf;
    if (btf !== undefined) lines.push(`  btf ${btf.path} [${btf.kind}, ${btf.size} bytes, sha256 ${btf.sha256}] (libbpf btf_custom_path)`);
  } else {
    lines.push(`no artifact of probe "${result.probe}" can run on this host${result.needs === undefined ? '' : `: needs ${result.needs}`}`);
  }
  for (const r of result.rejected) lines.push(`  rejected ${r.path} [${r.kind}]: ${r.reason}`);
  return lines.join('\n');
}
