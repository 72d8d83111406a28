import { formatBytes, onTransfer, printable, transferName, type TransferEvent } from './transfer-channel.js';

/** A download that has run this long earns progress lines; a quicker one only its end line. */
export const SLOW_MS = 1000;
/** Without a known total, a line every this many bytes. */
const UNKNOWN_STEP = 32 << 20;

interface Running {
  readonly started: number;
  /** A line has been written: the download is known to be slow. */
  announced: boolean;
  /** Next byte count that earns a line (a quarter of the total, or UNKNOWN_STEP more). */
  next: number;
}

/**
 * Transfer progress as plain lines, for CI logs and pipes. What takes time
 * shows: a download still running after a second gets a line per quarter
 * (or per 32 MiB when the size is unknown); every download one line when it
 * ends, with its time; uploads one line when stored.
 */
export class TransferLines {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly write: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  handle(event: TransferEvent): void {
    const key = `${event.direction} ${event.target}`;
    const name = event.direction === 'upload' ? printable(event.target) : transferName(event.target);
    if (event.phase === 'start') {
      this.running.set(key, { started: this.now(), announced: false, next: event.total === undefined ? UNKNOWN_STEP : Math.ceil(event.total / 4) });
      return;
    }
    const running = this.running.get(key);
    if (event.phase === 'data') {
      if (running === undefined || event.direction !== 'download') return;
      // The first line comes as soon as the download turns out slow, the next ones per quarter.
      if (this.now() - running.started < SLOW_MS || (running.announced && event.bytes < running.next)) return;
      const total = event.total;
      if (total !== undefined && event.bytes >= total) return; // the end line follows
      running.announced = true;
      if (total !== undefined) {
        const pct = Math.floor((event.bytes / total) * 100);
        this.write(`download ${name}: ${pct}% (${formatBytes(event.bytes)} of ${formatBytes(total)})`);
        running.next = Math.ceil(((Math.floor(pct / 25) + 1) * 25 * total) / 100);
      } else {
        this.write(`download ${name}: ${formatBytes(event.bytes)}`);
        running.next = event.bytes + UNKNOWN_STEP;
      }
      return;
    }
    this.running.delete(key);
    const secs = running === undefined ? '' : ` in ${((this.now() - running.started) / 1000).toFixed(1)}s`;
    if (event.phase === 'error') this.write(`${event.direction} ${name}: failed after ${formatBytes(event.bytes)}`);
    else if (event.direction === 'upload') this.write(`stored ${name} (${formatBytes(event.bytes)}${secs})`);
    else this.write(`downloaded ${name} (${formatBytes(event.bytes)}${secs})`);
  }
}

/** Downloads this small are not worth a line in a build's log; the job's own line follows. */
const SMALL = 1 << 20;

/**
 * Transfer lines for a long run (a build, a verify stage): uploads and the
 * downloads of at least 1 MiB (kernel images, header packages). Returns the
 * unsubscribe.
 */
export function followTransfers(write: (line: string) => void): () => void {
  const lines = new TransferLines(write);
  return onTransfer((event) => {
    if (event.direction === 'download' && event.total !== undefined && event.total < SMALL) return;
    lines.handle(event);
  });
}
