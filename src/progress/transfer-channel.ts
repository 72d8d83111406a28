/** The transfer events themselves are published by the loader's HTTP client and S3 reads; this file formats them for people. */
import type { TransferEvent } from '@kbuild/loader/internal';
export { TRANSFER_CHANNEL, publishTransfer, onTransfer, type TransferEvent } from '@kbuild/loader/internal';

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

/** What a bar's text says of a running transfer ("download linux-image-….deb 120.0 MiB of 280.0 MiB"); undefined once it ended. */
export function runningTransferText(event: TransferEvent): string | undefined {
  if (event.phase === 'end' || event.phase === 'error') return undefined;
  const name = event.direction === 'upload' ? printable(event.target) : transferName(event.target);
  const size = event.total === undefined ? formatBytes(event.bytes) : `${formatBytes(event.bytes)} of ${formatBytes(event.total)}`;
  return `${event.direction} ${name} ${size}`;
}
