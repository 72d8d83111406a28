import { kernelLabel } from '../../kernel/identity.js';
import type { KernelOutcome } from './outcome.js';
import { outcomeLine } from './progress.js';

const LOG_LINES = 20;

/** Human summary: totals, then each failure with the end of the verifier log, the inconclusive ones, then what could not be verified and why. */
export function verifyReport(outcomes: readonly KernelOutcome[], summary: { ok: number; failed: number; notVerifiable: number; inconclusive: number; cached: number; booted: number; durationMs: number }): string {
  const lines = [
    `verify: ${summary.ok} ok, ${summary.failed} failed, ${summary.inconclusive} inconclusive, ${summary.notVerifiable} not verifiable (${summary.booted} kernels booted, ${summary.cached} results cached) in ${(summary.durationMs / 1000).toFixed(1)}s`,
  ];
  for (const o of outcomes) {
    for (const c of o.cases.filter((x) => x.entry.result === 'failed')) {
      lines.push(`\nVERIFY FAILED ${c.artifactPath} in ${kernelLabel(o.kernel)} (${c.mode}): ${c.entry.detail ?? ''}`);
      const failedPrograms = (c.entry.programs ?? []).filter((p) => p.result === 'failed');
      for (const p of failedPrograms) lines.push(`  program ${p.name}: ${p.detail ?? 'failed'}`);
      if (c.entry.firstError !== undefined) lines.push(`  error: ${c.entry.firstError}`);
      if (c.entry.log !== undefined) lines.push(`  whole log: ${c.entry.log.path} (${c.entry.log.size} bytes)`);
      // The end of the log says why; its head is mostly the program's listing.
      if (c.entry.verifierLog !== undefined) lines.push(c.entry.verifierLog.trimEnd().split('\n').slice(-LOG_LINES).join('\n'));
    }
  }
  // The emulator, not the object, stopped these: retried once, never counted as failures.
  for (const o of outcomes) {
    for (const c of o.cases.filter((x) => x.entry.result === 'inconclusive')) {
      lines.push(`\nverify inconclusive ${c.artifactPath} in ${kernelLabel(o.kernel)} (${c.mode}): ${c.entry.detail ?? ''}`);
    }
  }
  const unverifiable = outcomes.filter((o) => o.cases.some((c) => c.entry.result === 'not-verifiable'));
  if (unverifiable.length > 0) lines.push('', ...unverifiable.map(outcomeLine));
  return `${lines.join('\n')}\n`;
}
