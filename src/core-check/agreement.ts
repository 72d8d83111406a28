import type { IndexArtifact, IndexKernel } from '@kbuild/loader';

/**
 * The predictor measured against reality: for every kernel where a CO-RE
 * object was both checked offline and loaded in QEMU (either CO-RE mode), do
 * they agree? `incompatible` must mean QEMU failed; `compatible` must mean
 * QEMU did not fail on a CO-RE relocation (a failure for another reason, a
 * verifier limit or a missing helper, is outside what the check predicts and
 * counts as agreement, listed apart). Every disagreement is a predictor bug.
 */

export interface Agreement {
  readonly path: string;
  readonly probe: string;
  /** The kernel as one label ("debian 6.1.0-50-cloud-amd64 x86_64 (core-kernel-btf)"), and as fields. */
  readonly kernel: string;
  readonly target: IndexKernel;
  readonly mode: string;
  readonly predicted: 'compatible' | 'incompatible';
  readonly qemu: 'ok' | 'failed';
  readonly verdict: 'agree' | 'disagree' | 'other-failure';
  readonly detail: string;
}

/** What libbpf and the verifier print when a poisoned relocation is reached (libbpf's bpf_core_poison 0xbad2310). */
const CORE_FAILURE = /failed to resolve CO-RE relocation|unknown#195896080|0xbad2310|relo #[0-9]+: .*(?:failed|no matching targets)/i;

export function compareWithQemu(artifacts: readonly IndexArtifact[]): Agreement[] {
  const out: Agreement[] = [];
  for (const artifact of artifacts) {
    if (artifact.kind !== 'core') continue;
    for (const check of artifact.coreCheck ?? []) {
      if (check.result === 'unknown' || check.coreSha256 !== artifact.sha256) continue;
      const k = check.kernel;
      const runs = artifact.verification.filter(
        (v) => v.method === 'qemu' && (v.mode === 'core-kernel-btf' || v.mode === 'core-external-btf') &&
          v.kernel?.distro === k.distro && v.kernel.release === k.release && v.kernel.arch === k.arch && (v.result === 'ok' || v.result === 'failed'),
      );
      for (const run of runs) {
        const qemu = run.result as 'ok' | 'failed';
        const text = [run.detail, run.firstError, run.verifierLog].filter((s) => s !== undefined).join('\n');
        const coreFailure = qemu === 'failed' && CORE_FAILURE.test(text);
        const verdict = check.result === 'incompatible'
          ? (qemu === 'failed' ? 'agree' : 'disagree')
          : (qemu === 'ok' ? 'agree' : coreFailure ? 'disagree' : 'other-failure');
        const why = qemu === 'failed' ? (run.firstError ?? run.detail ?? 'failed').split('\n')[0] ?? '' : 'loaded';
        out.push({ path: artifact.path, probe: artifact.probe, target: k, mode: run.mode ?? '', kernel: `${k.distro} ${k.release} ${k.arch} (${run.mode ?? ''})`, predicted: check.result, qemu, verdict, detail: `predicted ${check.result}${check.detail === undefined ? '' : ` (${check.detail.split('. ')[0]})`}; QEMU ${why}` });
      }
    }
  }
  return out;
}
