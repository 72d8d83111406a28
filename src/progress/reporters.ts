import cliProgress from 'cli-progress';
import { jobLabel } from '../job/types.js';
import { BTF_NOT_NEEDED, btfNotNeeded } from '../btf/btf-record.js';
import type { JobResult } from '../runner/run-jobs.js';
import { onTransfer, runningTransferText, type TransferEvent } from './transfer-channel.js';
import { followTransfers } from './transfer-lines.js';
import type { ProgressReporter } from './types.js';

export function createReporter(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  return stream.isTTY === true ? new BarReporter(stream) : new LineReporter(stream);
}

function resultLine(result: JobResult): string {
  const secs = (result.durationMs / 1000).toFixed(1);
  if (result.status === 'failed') return `FAILED  ${jobLabel(result.job)} (${secs}s): ${result.error?.message ?? ''}`;
  if (result.status === 'interrupted') return `stopped ${jobLabel(result.job)} (${secs}s)`;
  const verb = result.status === 'built' ? 'built  ' : 'skipped';
  const warned = result.artifact?.warnings === undefined ? '' : ' with compiler warnings';
  return `${verb} ${jobLabel(result.job)} (${secs}s)${btfNotNeeded(result.externalBtf) ? `: ${BTF_NOT_NEEDED}` : warned}`;
}

/**
 * Without a terminal: one plain line per finished job, for CI logs; big downloads and S3 uploads as they go.
 * External-BTF jobs of kernels that have BTF did nothing worth a line each (most kernels of a CO-RE
 * build): they are counted, and said once at the end.
 */
export class LineReporter implements ProgressReporter {
  private finished = 0;
  private total = 0;
  private notNeeded = 0;
  private stopTransfers: (() => void) | undefined;
  constructor(private readonly stream: NodeJS.WritableStream) {}
  start(total: number): void {
    this.total = total;
    this.stream.write(`kbuild: ${total} jobs\n`);
    this.stopTransfers = followTransfers((line) => this.stream.write(`kbuild: ${line}\n`));
  }

  stage(): void {}
  done(result: JobResult): void {
    this.finished++;
    if (result.status !== 'failed' && btfNotNeeded(result.externalBtf)) this.notNeeded++;
    else this.stream.write(`[${this.finished}/${this.total}] ${resultLine(result)}\n`);
  }
  finish(): void {
    this.stopTransfers?.();
    if (this.notNeeded === 0) return;
    const jobs = this.notNeeded === 1 ? '1 external-BTF job' : `${this.notNeeded} external-BTF jobs`;
    this.stream.write(`kbuild: ${jobs} had nothing to do: their kernels have BTF\n`);
  }
}

/** On a terminal: one bar, the stage of the latest job, failures printed above it. */
export class BarReporter implements ProgressReporter {
  private readonly bar: cliProgress.SingleBar;
  private stopTransfers: (() => void) | undefined;
  constructor(private readonly stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      { stream, format: ' {bar} {value}/{total} jobs | {current}', hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
  }
  start(total: number): void {
    this.bar.start(total, 0, { current: '' });
    this.stopTransfers = onTransfer((event) => this.transfer(event));
  }
  /** The running download or upload shows in the bar's text: "download linux-image-…-dbg 120.0 MiB of 280.0 MiB". */
  private transfer(event: TransferEvent): void {
    const text = runningTransferText(event);
    if (text !== undefined) this.bar.update({ current: text });
  }

  stage(job: Parameters<ProgressReporter['stage']>[0], stage: string): void {
    this.bar.update({ current: `${stage} ${jobLabel(job)}` });
  }
  done(result: JobResult): void {
    // Failures stay on screen above the bar.
    if (result.status === 'failed') this.stream.write(`\r\x1b[K${resultLine(result)}\n`);
    this.bar.increment(1, { current: resultLine(result) });
  }
  finish(): void {
    this.stopTransfers?.();
    this.bar.stop();
  }
}
