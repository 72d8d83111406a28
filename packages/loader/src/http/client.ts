import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { asDiskError, ChecksumError, KbuildError, NetworkError, errorMessage, LoaderErrorCode } from '../errors.js';
import { publishTransfer } from '../transfer-channel.js';
import { writeAtomically } from '../atomic-file.js';

/**
 * The one HTTP client of kbuild: every download (indexes, packages, images)
 * goes through here so retry, timeout and checksum rules are the same everywhere.
 */

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface RetryInfo {
  readonly url: string;
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

export interface HttpOptions {
  /** Total tries per request, first one included. */
  readonly attempts?: number;
  /** Backoff before retry n is baseDelayMs * 2^(n-1), with jitter so workers do not retry in step. */
  readonly baseDelayMs?: number;
  /** Limit for the response headers and for every silence between body chunks (big files stream for long). */
  readonly timeoutMs?: number;
  /** Injected by tests to count or fake requests; defaults to the global fetch. */
  readonly fetch?: FetchLike;
  readonly signal?: AbortSignal;
  readonly onRetry?: (info: RetryInfo) => void;
}

export interface ExpectedContent {
  readonly sha256: string;
  readonly size?: number;
}

const DEFAULTS = { attempts: 4, baseDelayMs: 500, timeoutMs: 30_000 } as const;

/** A status the server meant: 4xx are never retried, 5xx are until attempts run out. */
export class HttpStatusError extends KbuildError {
  readonly status: number;
  readonly url: string;
  constructor(url: string, status: number, statusText: string) {
    super(status === 404 ? LoaderErrorCode.HTTP_NOT_FOUND : LoaderErrorCode.HTTP_STATUS, `GET ${url} answered ${status} ${statusText}`.trim(), {
      retryable: status >= 500,
    });
    this.status = status;
    this.url = url;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof HttpStatusError && err.status === 404;
}

class IdleTimeout extends Error {}

type Attempt<T> = (signal: AbortSignal, touch: () => void) => Promise<T>;

/** Runs one attempt with its own abort controller, re-armed by `touch` whenever bytes arrive. */
async function runAttempt<T>(options: HttpOptions, attempt: Attempt<T>): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const touch = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new IdleTimeout(`no data for ${timeoutMs} ms`)), timeoutMs);
  };
  const onAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  touch();
  try {
    return await attempt(controller.signal, touch);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function worthRetrying(err: unknown): boolean {
  if (err instanceof HttpStatusError) return err.status >= 500;
  // Checksum, archive and other kbuild errors describe the content, which a retry would not change.
  return !(err instanceof KbuildError);
}

async function withRetry<T>(url: string, options: HttpOptions, attempt: Attempt<T>): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? DEFAULTS.attempts);
  const baseDelayMs = options.baseDelayMs ?? DEFAULTS.baseDelayMs;
  let lastError: unknown;
  for (let n = 1; n <= attempts; n++) {
    options.signal?.throwIfAborted();
    try {
      return await runAttempt(options, attempt);
    } catch (err) {
      if (options.signal?.aborted === true) throw options.signal.reason ?? err;
      if (!worthRetrying(err)) throw err;
      lastError = err;
      if (n === attempts) break;
      const delayMs = Math.round(baseDelayMs * 2 ** (n - 1) * (0.5 + Math.random() / 2));
      options.onRetry?.({ url, attempt: n, delayMs, error: err });
      await sleep(delayMs, undefined, options.signal === undefined ? {} : { signal: options.signal });
    }
  }
  throw new NetworkError(`GET ${url} failed after ${attempts} attempts: ${describe(lastError)}`, {
    cause: lastError,
    suggestions: ['Check that the mirror is reachable from this machine, then retry'],
  });
}

function describe(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${errorMessage(err)}${cause}`;
}

/** The body's length: what the caller expects, else the server's Content-Length. */
function bodyLength(response: Response, expected: number | undefined): number | undefined {
  if (expected !== undefined) return expected;
  const header = Number(response.headers.get('content-length') ?? '');
  return Number.isSafeInteger(header) && header >= 0 && response.headers.get('content-encoding') === null ? header : undefined;
}

/** Publishes one download's progress (see src/progress/transfer-channel.ts); `end`/`error` once. */
function downloadProgress(url: string, total: number | undefined) {
  const base = { direction: 'download', target: url, ...(total === undefined ? {} : { total }) } as const;
  publishTransfer({ ...base, phase: 'start', bytes: 0 });
  return {
    data: (bytes: number) => publishTransfer({ ...base, phase: 'data', bytes }),
    end: (bytes: number) => publishTransfer({ ...base, phase: 'end', bytes }),
    error: (bytes: number) => publishTransfer({ ...base, phase: 'error', bytes }),
  };
}

async function get(url: string, options: HttpOptions, signal: AbortSignal): Promise<Response> {
  const fetchImpl: FetchLike = options.fetch ?? globalThis.fetch;
  const response = await fetchImpl(url, { signal, redirect: 'follow' });
  if (!response.ok) {
    // Drain nothing: cancelling frees the connection without reading an error page.
    await response.body?.cancel().catch(() => undefined);
    throw new HttpStatusError(url, response.status, response.statusText);
  }
  return response;
}

export interface BufferLimits {
  /** Checked as the bytes arrive: a size overrun stops the download at once. */
  readonly expected?: ExpectedContent;
  /** Refuse bodies above this many bytes, so a hostile server cannot fill memory. */
  readonly maxBytes?: number;
}

/** GETs a whole (small) resource into memory, e.g. a Packages index. */
export async function fetchBuffer(url: string, options: HttpOptions = {}, limits: BufferLimits = {}): Promise<Buffer> {
  const cap = Math.min(limits.expected?.size ?? Infinity, limits.maxBytes ?? Infinity);
  return withRetry(url, options, async (signal, touch) => {
    const response = await get(url, options, signal);
    touch();
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    const progress = downloadProgress(url, bodyLength(response, limits.expected?.size));
    try {
      if (response.body !== null) {
        for await (const chunk of response.body) {
          bytes += chunk.length;
          // Leaving the loop cancels the stream, so the rest of an oversized body is never read.
          if (bytes > cap) throw new ChecksumError(`${url}: expected at most ${cap} bytes, received more`);
          chunks.push(chunk);
          progress.data(bytes);
          touch();
        }
      }
      const body = Buffer.concat(chunks);
      if (limits.expected !== undefined) checkContent(url, body, limits.expected);
      progress.end(bytes);
      return body;
    } catch (err) {
      progress.error(bytes);
      throw err;
    }
  });
}

function checkContent(url: string, body: Buffer, expected: ExpectedContent): void {
  checkReceived(url, expected, body.length, () => createHash('sha256').update(body).digest('hex'));
}

/** Size first (cheap, and the clearer message for a cut-short body), then sha256. */
function checkReceived(url: string, expected: ExpectedContent, received: number, sha256: () => string): void {
  if (expected.size !== undefined && received !== expected.size) {
    throw new ChecksumError(`${url}: expected ${expected.size} bytes, received ${received}`);
  }
  const want = expected.sha256.toLowerCase();
  const actual = sha256();
  if (actual !== want) throw new ChecksumError(`${url}: sha256 mismatch, expected ${want}, actual ${actual}`);
}

/**
 * Streams `url` to `dest`, checking size and sha256 on the way. Bytes land in a
 * temporary file beside `dest` that is renamed only once verified, so `dest`
 * never exists with unverified content, even after a crash.
 */
export async function downloadToFile(
  url: string,
  dest: string,
  expected: ExpectedContent,
  options: HttpOptions = {},
): Promise<void> {
  await writeAtomically(dest, (tmp) =>
    withRetry(url, options, async (signal, touch) => {
      const response = await get(url, options, signal);
      touch();
      const hash = createHash('sha256');
      let bytes = 0;
      const progress = downloadProgress(url, bodyLength(response, expected.size));
      try {
        const file = await open(tmp, 'w');
        try {
          if (response.body !== null) {
            for await (const chunk of response.body) {
              touch();
              bytes += chunk.length;
              if (expected.size !== undefined && bytes > expected.size) {
                throw new ChecksumError(`${url}: expected ${expected.size} bytes, received more`);
              }
              hash.update(chunk);
              // A full disk is no network error: named and never retried.
              await file.write(chunk).catch((err: unknown) => {
                throw asDiskError(err, dest);
              });
              progress.data(bytes);
            }
          }
          // Flushed before the rename so a crash cannot leave a named-by-hash file with holes.
          await file.datasync().catch((err: unknown) => {
            throw asDiskError(err, dest);
          });
        } finally {
          await file.close();
        }
        checkReceived(url, expected, bytes, () => hash.digest('hex'));
        progress.end(bytes);
      } catch (err) {
        progress.error(bytes);
        throw err;
      }
    }),
  );
}
