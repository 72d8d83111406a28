import { formatBytes, printable, transferName, type TransferEvent } from './transfer-channel.js';

/** Transfers smaller than this get one line when they end, nothing more. */
const SMALL = 1 << 20;
/** Without a known total, a line every this many bytes. */
const UNKNOWN_STEP = 32 << 20;

interface Running {
  readonly started: number;
  /** Next byte count (or percentage step) that earns a line. */
  next: number;
}

/**
 * Transfer progress as plain lines, for CI logs and pipes: one line when a
 * big download starts, one per quarter (or per 32 MiB when the size is
 * unknown), one when it ends. Uploads get one line when stored.
 */
export class TransferLines {
  private readonly running = new Map<string, Running>();

  constructor(private readonly write: (line: string) => void) {}

  handle(event: TransferEvent): void {
    const key = `${event.direction} ${event.target}`;
    const name = event.direction === 'upload' ? printable(event.target) : transferName(event.target);
    if (event.phase === 'start') {
      this.running.set(key, { started: Date.now(), next: this.firstStep(event.total) });
      if (event.direction === 'download' && (event.total === undefined || event.total >= SMALL)) {
        this.write(`download ${name}${event.total === undefined ? '' : ` (${formatBytes(event.total)})`}`);
      }
      return;
    }
    const running = this.running.get(key);
    if (event.phase === 'data') {
      if (running === undefined || event.bytes < running.next) return;
      const total = event.total;
      if (total !== undefined && event.bytes >= total) return; // the end line follows
      if (total !== undefined && total >= SMALL) {
        const pct = Math.floor((event.bytes / total) * 100);
        this.write(`download ${name}: ${pct}% (${formatBytes(event.bytes)} of ${formatBytes(total)})`);
        running.next = Math.ceil(((Math.floor(pct / 25) + 1) * 25 * total) / 100);
      } else if (total === undefined) {
        this.write(`download ${name}: ${formatBytes(event.bytes)}`);
        running.next = event.bytes + UNKNOWN_STEP;
      }
      return;
    }
    this.running.delete(key);
    const secs = running === undefined ? '' : ` in ${((Date.now() - running.started) / 1000).toFixed(1)}s`;
    if (event.phase === 'error') this.write(`${event.direction} ${name}: failed after ${formatBytes(event.bytes)}`);
    else if (event.direction === 'upload') this.write(`stored ${name} (${formatBytes(event.bytes)}${secs})`);
    else this.write(`downloaded ${name} (${formatBytes(event.bytes)}${secs})`);
  }

  private firstStep(total: number | undefined): number {
    if (total === undefined) return UNKNOWN_STEP;
    // Small transfers never earn a progress line (Infinity), big ones one per quarter.
    return total < SMALL ? Infinity : Math.ceil(total / 4);
  }
}
