import cliProgress from 'cli-progress';
import { kernelLabel, type KernelIdentity } from '../../kernel/identity.js';
import { onTransfer, runningTransferText } from '../../progress/transfer-channel.js';
import { followTransfers } from '../../progress/transfer-lines.js';
import type { KernelOutcome } from './outcome.js';

/**
 * Verification progress: a bar on a terminal, one line per kernel elsewhere;
 * the kernel images it downloads show as a build's downloads do.
 */
export interface VerifyProgress {
  start(kernels: number): void;
  kernelStarted(kernel: KernelIdentity): void;
  kernelDone(outcome: KernelOutcome): void;
  finish(): void;
}

export function createVerifyProgress(stream: NodeJS.WriteStream = process.stderr): VerifyProgress {
  return stream.isTTY === true ? new BarProgress(stream) : new LineProgress(stream);
}

export function outcomeLine(o: KernelOutcome): string {
  return `${outcomeVerdict(o)} ${kernelLabel(o.kernel)} ${outcomeSummary(o)}`;
}

function caseCounts(o: KernelOutcome): Record<KernelOutcome['cases'][number]['entry']['result'], number> {
  const counts = { ok: 0, failed: 0, 'not-verifiable': 0, inconclusive: 0 };
  for (const c of o.cases) counts[c.entry.result]++;
  return counts;
}

/**
 * One word for a kernel's verification that never reads as success unless
 * every case loaded: a failed load is FAILED, a kernel that did not boot or
 * timed out is NOT VERIFIED, an emulator hiccup is inconclusive.
 */
export function outcomeVerdict(o: KernelOutcome): string {
  const counts = caseCounts(o);
  if (counts.failed > 0) return 'FAILED';
  if (o.status === 'timeout' || o.status === 'boot-failed') return 'NOT VERIFIED';
  if (counts.inconclusive > 0) return 'inconclusive';
  if (counts.ok === 0) return 'not verifiable';
  return counts['not-verifiable'] > 0 ? 'partly verified' : 'verified';
}

const HOW: Readonly<Record<Exclude<KernelOutcome['status'], 'completed'>, string>> = {
  cached: 'cached',
  timeout: 'timed out',
  'boot-failed': 'boot failed',
  'not-verifiable': 'not booted',
};

/** "(booted 4.5s): 3 ok, 0 failed, 0 not verifiable" and why it did not complete. */
export function outcomeSummary(o: KernelOutcome): string {
  const counts = caseCounts(o);
  const cached = o.cases.filter((c) => c.cached).length;
  const how = o.status === 'completed' ? `booted ${o.seconds.toFixed(1)}s` : o.status === 'timeout' ? `timed out after ${o.seconds.toFixed(1)}s` : HOW[o.status];
  const parts = [`${counts.ok} ok`, `${counts.failed} failed`, `${counts['not-verifiable']} not verifiable`];
  if (counts.inconclusive > 0) parts.push(`${counts.inconclusive} inconclusive`);
  if (cached > 0 && o.status !== 'cached') parts.push(`${cached} cached`);
  const tail = o.detail === undefined ? '' : `: ${o.detail}`;
  return `(${how}): ${parts.join(', ')}${tail}`;
}

class LineProgress implements VerifyProgress {
  private done = 0;
  private total = 0;
  private stopTransfers: (() => void) | undefined;
  constructor(private readonly stream: NodeJS.WritableStream) {}
  start(kernels: number): void {
    this.total = kernels;
    this.stream.write(`kbuild: verifying in ${kernels} kernel${kernels === 1 ? '' : 's'}\n`);
    this.stopTransfers = followTransfers((line) => this.stream.write(`kbuild: ${line}\n`));
  }
  kernelStarted(): void {}
  kernelDone(outcome: KernelOutcome): void {
    this.done++;
    this.stream.write(`[verify ${this.done}/${this.total}] ${outcomeLine(outcome)}\n`);
  }
  finish(): void {
    this.stopTransfers?.();
  }
}

class BarProgress implements VerifyProgress {
  private readonly bar: cliProgress.SingleBar;
  constructor(private readonly stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      { stream, format: ' verify {bar} {value}/{total} kernels | {current}', hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
  }
  private stopTransfers: (() => void) | undefined;
  start(kernels: number): void {
    this.bar.start(kernels, 0, { current: '' });
    this.stopTransfers = onTransfer((event) => {
      const text = runningTransferText(event);
      if (text !== undefined) this.bar.update({ current: text });
    });
  }
  kernelStarted(kernel: KernelIdentity): void {
    this.bar.update({ current: `booting ${kernelLabel(kernel)}` });
  }
  kernelDone(outcome: KernelOutcome): void {
    // Failures stay on screen above the bar.
    if (outcome.cases.some((c) => c.entry.result === 'failed')) this.stream.write(`\r\x1b[K${outcomeLine(outcome)}\n`);
    this.bar.increment(1, { current: outcomeLine(outcome) });
  }
  finish(): void {
    this.stopTransfers?.();
    this.bar.stop();
  }
}
