import cliProgress from 'cli-progress';
import { kernelLabel, type KernelIdentity } from '../../kernel/identity.js';
import type { KernelOutcome } from './outcome.js';

/** Verification progress: a bar on a terminal, one line per kernel elsewhere. */
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
  const failed = o.cases.some((c) => c.entry.result === 'failed');
  return `${failed ? 'FAILED ' : 'verify '} ${kernelLabel(o.kernel)} ${outcomeSummary(o)}`;
}

/** "(booted 4.5s): 3 ok, 0 failed, 0 not verifiable" and why it did not complete. */
export function outcomeSummary(o: KernelOutcome): string {
  const counts = { ok: 0, failed: 0, 'not-verifiable': 0, inconclusive: 0 };
  for (const c of o.cases) counts[c.entry.result]++;
  const cached = o.cases.filter((c) => c.cached).length;
  const how = o.status === 'cached' ? 'cached' : o.booted ? `booted ${o.seconds.toFixed(1)}s` : o.status;
  const parts = [`${counts.ok} ok`, `${counts.failed} failed`, `${counts['not-verifiable']} not verifiable`];
  if (counts.inconclusive > 0) parts.push(`${counts.inconclusive} inconclusive`);
  if (cached > 0 && o.status !== 'cached') parts.push(`${cached} cached`);
  const tail = o.detail === undefined ? '' : `: ${o.detail}`;
  return `(${how}): ${parts.join(', ')}${tail}`;
}

class LineProgress implements VerifyProgress {
  private done = 0;
  private total = 0;
  constructor(private readonly stream: NodeJS.WritableStream) {}
  start(kernels: number): void {
    this.total = kernels;
    this.stream.write(`kbuild: verifying in ${kernels} kernel${kernels === 1 ? '' : 's'}\n`);
  }
  kernelStarted(): void {}
  kernelDone(outcome: KernelOutcome): void {
    this.done++;
    this.stream.write(`[verify ${this.done}/${this.total}] ${outcomeLine(outcome)}\n`);
  }
  finish(): void {}
}

class BarProgress implements VerifyProgress {
  private readonly bar: cliProgress.SingleBar;
  constructor(private readonly stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      { stream, format: ' verify {bar} {value}/{total} kernels | {current}', hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
  }
  start(kernels: number): void {
    this.bar.start(kernels, 0, { current: '' });
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
    this.bar.stop();
  }
}
