import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { anySignal } from './any-signal.js';

describe('anySignal', () => {
  it('aborts when any input aborts, with its reason', () => {
    const a = new AbortController();
    const b = new AbortController();
    const { signal: combined } = anySignal([a.signal, b.signal]);
    assert.equal(combined.aborted, false);
    b.abort('time limit');
    assert.equal(combined.aborted, true);
    assert.equal(combined.reason, 'time limit');
  });

  it('is aborted at once when an input already is', () => {
    const a = new AbortController();
    a.abort('stopped');
    const { signal: combined } = anySignal([new AbortController().signal, a.signal]);
    assert.equal(combined.aborted, true);
    assert.equal(combined.reason, 'stopped');
  });

  it('leaves no listener on its inputs once disposed, and no longer follows them', () => {
    const long = new AbortController();
    const linked = anySignal([long.signal, new AbortController().signal]);
    assert.equal(getEventListeners(long.signal, 'abort').length, 1);
    linked.dispose();
    linked.dispose();
    assert.equal(getEventListeners(long.signal, 'abort').length, 0);
    long.abort('later');
    assert.equal(linked.signal.aborted, false);
  });

  it('removes its listeners from every input when one aborts', () => {
    const a = new AbortController();
    const b = new AbortController();
    anySignal([a.signal, b.signal]);
    a.abort();
    assert.equal(getEventListeners(b.signal, 'abort').length, 0);
  });
});
