import { kernelBtfFromArtifacts } from '../btf/index-btf.js';
import { mergeKernelBtf } from '../btf/btf-record.js';
import { ArtifactIndex, type IndexArtifact, type IndexFailure } from '@kbuild/loader';
import { failedEntryExists, failureKey, qemuSlot, sortEntries } from '../verify/stage/apply-index.js';

/** One build target: a failure and an artifact with the same target are about the same build. */
function targetOf(x: Pick<IndexArtifact | IndexFailure, 'probe' | 'kind' | 'arch' | 'kernel'> & { stage?: IndexFailure['stage'] }): string {
  return JSON.stringify([x.probe, x.kind, x.arch, x.kernel.distro, x.kernel.release, x.stage === 'external-btf' ? 'btf' : '']);
}

/** The targets an incoming index settles through its external BTF (a kernel's BTF made for a CO-RE object). */
function btfTargets(index: ArtifactIndex): string[] {
  return index.kernelBtf.flatMap((k) => k.objects.map((o) => targetOf({ probe: o.probe, kind: 'core', arch: k.kernel.arch, kernel: k.kernel, stage: 'external-btf' })));
}

function isVerifyFailure(f: IndexFailure): boolean {
  return f.stage === 'verify';
}

/**
 * What publishing writes: the stored index with the incoming one laid over it.
 * Artifacts are replaced by path (a rebuild wins), everything else published
 * before is kept (another build set's entries are not ours to drop):
 * - an artifact republished with the same bytes keeps the stored QEMU entries
 *   of kernels (and modes) the incoming one did not verify; new bytes drop them;
 * - a stored build failure goes away once the incoming index built or re-failed that target;
 * - a verify failure stays only while the merged artifact still has a failed
 *   QEMU entry for that kernel and mode: a re-verification that passed, or a
 *   rebuild into other bytes, settles it.
 */
export function mergeIndex(stored: ArtifactIndex | undefined, incoming: ArtifactIndex): ArtifactIndex {
  if (stored === undefined) return incoming;
  const before = new Map(stored.artifacts.map((a) => [a.path, a]));
  const artifacts = new Map(before);
  for (const artifact of incoming.artifacts) artifacts.set(artifact.path, carryQemuEntries(before.get(artifact.path), artifact));
  const merged = [...artifacts.values()].sort((a, b) => a.path.localeCompare(b.path));

  const settled = new Set([...[...incoming.artifacts, ...incoming.failures.filter((f) => !isVerifyFailure(f))].map(targetOf), ...btfTargets(incoming)]);
  const buildFailures = [...stored.failures.filter((f) => !isVerifyFailure(f) && !settled.has(targetOf(f))), ...incoming.failures.filter((f) => !isVerifyFailure(f))];
  const verifyFailures = new Map<string, IndexFailure>();
  for (const f of [...stored.failures, ...incoming.failures].filter(isVerifyFailure)) verifyFailures.set(failureKey(f), f);
  const stillFailing = [...verifyFailures.values()].filter((f) => failedEntryExists(merged, f));
  const failures = [...buildFailures, ...stillFailing].sort((a, b) => failureKey(a).localeCompare(failureKey(b)));
  return ArtifactIndex.parse({
    ...incoming,
    artifacts: merged,
    failures,
    // Other build sets' external BTFs stay listed; old indexes kept them in the per-kernel artifacts' records.
    kernelBtf: mergeKernelBtf(mergeKernelBtf(kernelBtfFromArtifacts(merged), stored.kernelBtf), incoming.kernelBtf),
  });
}

/**
 * Same bytes: what was verified before still holds for the kernels not
 * verified now, and so do the offline CO-RE predictions of kernels not checked now.
 */
function carryQemuEntries(old: IndexArtifact | undefined, fresh: IndexArtifact): IndexArtifact {
  if (old === undefined || old.sha256 !== fresh.sha256) return fresh;
  const slots = new Set(fresh.verification.filter((v) => v.method === 'qemu').map(qemuSlot));
  const carried = old.verification.filter((v) => v.method === 'qemu' && !slots.has(qemuSlot(v)));
  const withQemu = carried.length === 0 ? fresh : { ...fresh, verification: sortEntries([...fresh.verification, ...carried]) };
  const checked = new Set((fresh.coreCheck ?? []).map((c) => checkSlot(c.kernel)));
  const predictions = (old.coreCheck ?? []).filter((c) => c.coreSha256 === fresh.sha256 && !checked.has(checkSlot(c.kernel)));
  if (predictions.length === 0) return withQemu;
  const coreCheck = [...(fresh.coreCheck ?? []), ...predictions].sort((a, b) => checkSlot(a.kernel).localeCompare(checkSlot(b.kernel), 'en', { numeric: true }));
  return { ...withQemu, coreCheck };
}

const checkSlot = (k: { distro: string; release: string; arch: string }): string => `${k.distro} ${k.release} ${k.arch}`;
