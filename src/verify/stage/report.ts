import { kernelLabel } from '../../kernel/identity.js';
import type { KernelOutcome } from './outcome.js';
import { outcomeLine } from './progress.js';

const LOG_LINES = 20;

/** Human summary: totals, then each failure with the head of the verifier log, then what could not be verified and why. */
export function verifyReport(outcomes: readonly KernelOutcome[], summary: { ok: number; failed: number; notVerifiable: number; cached: number; booted: number; durationMs: number }): string {
  const lines = [
    `verify: ${summary.ok} ok, ${summary.failed} failed, ${summary.notVerifiable} not verifiable (${summary.booted} kernels booted, ${summary.cached} results cached) in ${(summary.durationMs / 1000).toFixed(1)}s`,
  ];
  for (const o of outcomes) {
    for (const c of o.cases.filter((x) => x.entry.result === 'failed')) {
      lines.push(`\nVERIFY FAILED ${c.artifactPath} in ${kernelLabel(o.kernel)} (${c.mode}): ${c.entry.detail ?? ''}`);
      if (c.entry.verifierLog !== undefined) lines.push(c.entry.verifierLog.trimEnd().split('\n').slice(0, LOG_LINES).join('\n'));
    }
  }
  const unverifiable = outcomes.filter((o) => o.cases.some((c) => c.entry.result === 'not-verifiable'));
  if (unverifiable.length > 0) lines.push('', ...unverifiable.map((o) => `not verifiable: ${outcomeLine(o)}`));
  return `${lines.join('\n')}\n`;
}
