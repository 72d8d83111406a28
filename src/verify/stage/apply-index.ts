import { ArtifactIndex, type IndexArtifact, type IndexFailure, type IndexVerification } from '../../loader/index-schema.js';
import type { CaseOutcome, KernelOutcome } from './outcome.js';

/** Failure messages carry the end of the verifier log (where the reason is); the whole log is a blob the entry names. */
const LOG_HEAD_LINES = 40;

/** (booted kernel, mode) of a qemu entry: one entry per pair and artifact. */
export function qemuSlot(v: Pick<IndexVerification, 'kernel' | 'mode'>): string {
  return `${v.kernel?.distro ?? ''}/${v.kernel?.release ?? ''}/${v.kernel?.arch ?? ''}/${v.mode ?? ''}`;
}

/**
 * Lays the outcomes over an index: each artifact keeps its sha256 entry and
 * its qemu entries for kernels not verified now, and gets one qemu entry per
 * kernel and mode verified now (of the same object bytes). Failed ones are
 * also listed as failures (stage verify), like a failed build.
 */
export function applyVerification(index: ArtifactIndex, outcomes: readonly KernelOutcome[]): ArtifactIndex {
  const cases = outcomes.flatMap((o) => o.cases);
  const artifacts = index.artifacts.map((artifact) => withEntries(artifact, cases.filter((c) => c.artifactPath === artifact.path && c.artifactSha256 === artifact.sha256)));
  const now = cases.filter((c) => c.entry.result === 'failed').map(failureOf);
  const replaced = new Set(now.map(failureKey));
  // A stored verify failure stays only while its artifact still has a failed entry there.
  const kept = index.failures.filter((f) => !replaced.has(failureKey(f)) && (f.stage !== 'verify' || failedEntryExists(artifacts, f)));
  return ArtifactIndex.parse({ ...index, artifacts, failures: [...kept, ...now] });
}

function withEntries(artifact: IndexArtifact, cases: readonly CaseOutcome[]): IndexArtifact {
  if (cases.length === 0) return artifact;
  const fresh = new Set(cases.map((c) => qemuSlot(c.entry)));
  const kept = artifact.verification.filter((v) => v.method !== 'qemu' || !fresh.has(qemuSlot(v)));
  return { ...artifact, verification: sortEntries([...kept, ...cases.map((c) => c.entry)]) };
}

/** sha256 (and load-host) first, then qemu entries by kernel and mode: stable indexes diff cleanly. */
export function sortEntries(entries: readonly IndexVerification[]): IndexVerification[] {
  const rank = (v: IndexVerification): number => (v.method === 'qemu' ? 1 : 0);
  return [...entries].sort((a, b) => rank(a) - rank(b) || qemuSlot(a).localeCompare(qemuSlot(b)));
}

function failureOf(c: CaseOutcome): IndexFailure {
  const kernel = c.entry.kernel!;
  const log = c.entry.verifierLog === undefined ? '' : `\n${c.entry.verifierLog.trimEnd().split('\n').slice(-LOG_HEAD_LINES).join('\n')}`;
  return {
    probe: c.probe,
    kind: c.kind,
    stage: 'verify',
    mode: c.mode,
    arch: c.arch,
    kernel,
    code: 'E_VERIFY_FAILED',
    message: `${c.artifactPath} in ${kernel.distro} ${kernel.release} ${kernel.arch} (${c.mode}): ${c.entry.detail ?? 'failed'}${log}`.slice(0, 65536),
  };
}

/** A verify failure is about one object kind of one probe, one booted kernel and one mode. */
export function failureKey(f: Pick<IndexFailure, 'probe' | 'kind' | 'arch' | 'kernel' | 'stage' | 'mode'>): string {
  return JSON.stringify([f.stage ?? 'build', f.probe, f.kind, f.arch, f.kernel.distro, f.kernel.release, f.mode ?? '']);
}

/** Whether the artifact a verify failure is about still has a failed QEMU entry for that kernel and mode. */
export function failedEntryExists(artifacts: readonly IndexArtifact[], f: IndexFailure): boolean {
  const artifact = artifacts.find(
    (a) => a.probe === f.probe && a.kind === f.kind && a.arch === f.arch && (a.kind === 'core' || (a.kernel.distro === f.kernel.distro && a.kernel.release === f.kernel.release)),
  );
  const slot = qemuSlot({ kernel: f.kernel, mode: f.mode });
  return artifact?.verification.some((v) => v.method === 'qemu' && v.result === 'failed' && qemuSlot(v) === slot) === true;
}
