import { subscribe, unsubscribe, channel } from 'node:diagnostics_channel';

/**
 * Byte progress of downloads and store uploads, published on a Node
 * diagnostics channel: the HTTP client and the stores report without knowing
 * who listens (a CLI bar, log lines, nothing at all in the loader library),
 * and publishing costs nothing while no command subscribes.
 */
export const TRANSFER_CHANNEL = 'kbuild:transfer';

export interface TransferEvent {
  readonly direction: 'download' | 'upload';
  /** start: before the first byte; data: bytes so far; end: complete; error: given up (a retry starts again). */
  readonly phase: 'start' | 'data' | 'end' | 'error';
  /** The URL or store location being transferred. */
  readonly target: string;
  readonly bytes: number;
  /** Total bytes when known (Content-Length, the expected size, the upload's length). */
  readonly total?: number;
}

const transfers = channel(TRANSFER_CHANNEL);

export function publishTransfer(event: TransferEvent): void {
  if (transfers.hasSubscribers) transfers.publish(event);
}

/** Calls `listener` for every transfer event until the returned function is called. */
export function onTransfer(listener: (event: TransferEvent) => void): () => void {
  const handler = (message: unknown): void => listener(message as TransferEvent);
  subscribe(TRANSFER_CHANNEL, handler);
  return () => {
    unsubscribe(TRANSFER_CHANNEL, handler);
  };
}

/** A short name for a URL or key: its last path segment. */
export function transferName(target: string): string {
  let path = target.replace(/[?#].*$/, '').replace(/\/+$/, '');
  // apt's by-hash indexes are named by their hash: show the folder they index instead.
  const byHash = /^(.*?)([^/]+\/[^/]+)\/by-hash\/[A-Za-z0-9]+\/([0-9a-f]{8})[0-9a-f]*$/.exec(path);
  if (byHash !== null) path = `${byHash[1] ?? ''}${(byHash[2] ?? '').replace('/', '-')} index (${byHash[3] ?? ''}…)`;
  const last = path.slice(path.lastIndexOf('/') + 1);
  let name = last;
  try {
    name = decodeURIComponent(last);
  } catch {
    // A malformed escape stays as it came.
  }
  return printable(name === '' ? target : name);
}

/** Names come from mirrors and indexes: no control characters reach the terminal. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 200);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
