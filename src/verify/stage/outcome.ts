import type { KernelIdentity } from '../../kernel/identity.js';
import type { IndexArtifact, IndexVerification, VerifyMode } from '../../loader/index-schema.js';

/** The verification of one object in one kernel and mode, as the index will list it. */
export interface CaseOutcome {
  readonly probe: string;
  readonly mode: VerifyMode;
  readonly artifactPath: string;
  readonly artifactSha256: string;
  readonly kind: IndexArtifact['kind'];
  readonly arch: IndexArtifact['arch'];
  /** method 'qemu', with kernel and mode set. */
  readonly entry: IndexVerification;
  /** Taken from a verification record instead of booting. */
  readonly cached: boolean;
}

/**
 * One kernel: `booted` when QEMU ran (completed or not), `cached` when every
 * case came from records, `not-verifiable` when it could not boot here at all.
 */
export interface KernelOutcome {
  readonly kernel: KernelIdentity;
  readonly status: 'completed' | 'cached' | 'timeout' | 'boot-failed' | 'not-verifiable';
  readonly booted: boolean;
  readonly seconds: number;
  readonly cases: readonly CaseOutcome[];
  /** Why it did not complete (timeout, boot failure, no qemu for the arch, ...). */
  readonly detail?: string;
}

export function countResults(outcomes: readonly KernelOutcome[]): { ok: number; failed: number; notVerifiable: number; inconclusive: number; cached: number; booted: number } {
  const cases = outcomes.flatMap((o) => o.cases);
  return {
    ok: cases.filter((c) => c.entry.result === 'ok').length,
    failed: cases.filter((c) => c.entry.result === 'failed').length,
    notVerifiable: cases.filter((c) => c.entry.result === 'not-verifiable').length,
    inconclusive: cases.filter((c) => c.entry.result === 'inconclusive').length,
    cached: cases.filter((c) => c.cached).length,
    booted: outcomes.filter((o) => o.booted).length,
  };
}
