import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnrecoverableError } from 'bullmq';
import { CompileError, KernelNotFoundError, NetworkError } from '../errors.js';
import { describeFailure, failureReason, JobTimeoutError, parseFailureReason, toQueueError } from './failure.js';

describe('farm failure policy', () => {
  it('retries network errors and fails the rest at once', () => {
    assert.ok(!(toQueueError(new NetworkError('GET x failed: 503')) instanceof UnrecoverableError));
    assert.ok(!(toQueueError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })) instanceof UnrecoverableError));
    assert.ok(toQueueError(new KernelNotFoundError('6.1.0-999-amd64 not found')) instanceof UnrecoverableError);
    assert.ok(toQueueError(new CompileError('clang exited with 1', 'x.c:1: error')) instanceof UnrecoverableError);
    assert.ok(toQueueError(new JobTimeoutError(3000)) instanceof UnrecoverableError);
    assert.ok(toQueueError(new TypeError('a bug')) instanceof UnrecoverableError);
  });

  it('keeps code, message and the compiler output through BullMQ\'s failedReason string', () => {
    const failure = describeFailure(new CompileError('clang exited with 1 compiling a.c', "a.c:3:9: error: use of undeclared identifier 'x'\n1 error generated.\n"));
    const reason = toQueueError(new CompileError(failure.message, failure.output ?? '')).message;
    assert.equal(reason, failureReason(failure));
    assert.deepEqual(parseFailureReason(reason), failure);
    assert.deepEqual(parseFailureReason(failureReason({ code: 'E_KERNEL_NOT_FOUND', message: 'line one\nline two' })), {
      code: 'E_KERNEL_NOT_FOUND',
      message: 'line one line two',
    });
  });

  it('gives BullMQ\'s own reasons a code', () => {
    assert.equal(parseFailureReason('job stalled more than allowable limit').code, 'E_STALLED');
    assert.equal(parseFailureReason(undefined).code, 'E_INTERNAL');
  });
});
