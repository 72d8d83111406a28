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
