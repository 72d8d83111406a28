import cliProgress from 'cli-progress';
import { formatBytes, printable, transferName, type TransferEvent } from './transfer-channel.js';

/** Transfers smaller than this finish before a bar would be drawn: they only get their end line. */
const SMALL = 256 << 10;

/**
 * Transfer progress on a terminal: one bar per running download (bytes,
 * percentage, speed), lines for finished transfers and notes printed above
 * the bars.
 */
export class TransferBars {
  private readonly multi: cliProgress.MultiBar;
  private readonly bars = new Map<string, { bar: cliProgress.SingleBar; started: number }>();

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.multi = new cliProgress.MultiBar(
      {
        stream,
        format: ' {bar} {percentage}% | {done} of {size} | {name}',
        hideCursor: true,
        clearOnComplete: true,
        gracefulExit: false,
        autopadding: true,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  /** A line above the bars (or straight to the stream when none runs). */
  note(line: string): void {
    if (this.bars.size === 0) this.stream.write(`${line}\n`);
    else this.multi.log(`${line}\n`);
  }

  handle(event: TransferEvent): void {
    const key = `${event.direction} ${event.target}`;
    const name = event.direction === 'upload' ? printable(event.target) : transferName(event.target);
    const running = this.bars.get(key);
    if (event.phase === 'start') {
      if (event.direction === 'download' && (event.total === undefined || event.total >= SMALL)) {
        const total = event.total ?? 0;
        const bar = this.multi.create(total, 0, { name, done: formatBytes(0), size: event.total === undefined ? '?' : formatBytes(total) });
        this.bars.set(key, { bar, started: Date.now() });
      }
      return;
    }
    if (event.phase === 'data') {
      running?.bar.update(event.bytes, { done: formatBytes(event.bytes) });
      return;
    }
    if (running !== undefined) {
      this.multi.remove(running.bar);
      this.bars.delete(key);
    }
    const secs = running === undefined ? '' : ` in ${((Date.now() - running.started) / 1000).toFixed(1)}s`;
    if (event.phase === 'error') this.note(`${event.direction} ${name}: failed after ${formatBytes(event.bytes)}`);
    else if (event.direction === 'upload') this.note(`stored ${name} (${formatBytes(event.bytes)})`);
    else this.note(`downloaded ${name} (${formatBytes(event.bytes)}${secs})`);
    if (this.bars.size === 0) this.multi.stop();
  }

  stop(): void {
    this.multi.stop();
  }
}
