import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anySignal } from './any-signal.js';

describe('anySignal', () => {
  it('aborts when any input aborts, with its reason', () => {
    const a = new AbortController();
    const b = new AbortController();
    const combined = anySignal([a.signal, b.signal]);
    assert.equal(combined.aborted, false);
    b.abort('time limit');
    assert.equal(combined.aborted, true);
    assert.equal(combined.reason, 'time limit');
  });

  it('is aborted at once when an input already is', () => {
    const a = new AbortController();
    a.abort('stopped');
    const combined = anySignal([new AbortController().signal, a.signal]);
    assert.equal(combined.aborted, true);
    assert.equal(combined.reason, 'stopped');
  });
});
