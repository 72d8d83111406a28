import { UnrecoverableError } from 'bullmq';
import { CompileError, errorMessage, KbuildError } from '../errors.js';

/** A failed build as status and the index show it: a code, a message, the compiler's output. */
export interface BuildFailure {
  readonly code: string;
  readonly message: string;
  readonly output?: string;
}

/** The job ran past its time limit; its processes were killed. */
export class JobTimeoutError extends KbuildError {
  constructor(limitMs: number) {
    super('E_TIMEOUT', `job ran past its time limit of ${Math.round(limitMs / 1000)}s; its processes were killed`);
  }
}

// Node's errors for a network that failed on the way: worth another attempt.
const TRANSIENT_ERRNO = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);

export function describeFailure(err: unknown): BuildFailure {
  if (err instanceof CompileError) return { code: err.code, message: err.message, output: err.output };
  if (err instanceof KbuildError) return { code: err.code, message: err.message };
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  // A full disk is not retried as if it were the network.
  if (errno === 'ENOSPC' || errno === 'EDQUOT') return { code: 'E_DISK', message: errorMessage(err) };
  return { code: typeof errno === 'string' && TRANSIENT_ERRNO.has(errno) ? 'E_NETWORK' : 'E_INTERNAL', message: errorMessage(err) };
}

export function isRetryable(err: unknown): boolean {
  if (err instanceof KbuildError) return err.retryable;
  return describeFailure(err).code === 'E_NETWORK';
}

/**
 * BullMQ keeps only a string per failed job: the first line is `CODE: message`,
 * the rest the compiler's output, so status and the index get all three back.
 */
export function failureReason(failure: BuildFailure): string {
  const head = `${failure.code}: ${failure.message.replace(/\n/g, ' ')}`;
  return failure.output === undefined || failure.output === '' ? head : `${head}\n${failure.output}`;
}

export function parseFailureReason(reason: string | undefined): BuildFailure {
  const match = /^(E_[A-Z0-9_]+): ([^\n]*)(?:\n([\s\S]*))?$/.exec(reason ?? '');
  if (match === null) {
    // BullMQ's own reasons (a job that stalled too often, a lock lost) have no code.
    const message = reason === undefined || reason === '' ? 'failed without a reason' : reason;
    return { code: /stalled/i.test(message) ? 'E_STALLED' : 'E_INTERNAL', message };
  }
  const [, code = 'E_INTERNAL', message = '', output] = match;
  return output === undefined || output === '' ? { code, message } : { code, message, output };
}

/**
 * What the worker throws to BullMQ: a retryable error as itself (attempts and
 * exponential backoff apply), anything else as UnrecoverableError so the job
 * fails at once — retrying a missing kernel or a compile error cannot help.
 */
export function toQueueError(err: unknown): Error {
  const reason = failureReason(describeFailure(err));
  return isRetryable(err) ? new Error(reason) : new UnrecoverableError(reason);
}
