import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSlotCount, Slots } from './cpu-slots.js';

describe('CPU slots', () => {
  it('never runs more than its size at once, and serves waiters in order', async () => {
    const slots = new Slots(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) =>
        slots.run(async () => {
          running++;
          peak = Math.max(peak, running);
          order.push(i);
          await sleep(10);
          running--;
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
    assert.equal(slots.queued, 0);
  });

  it('gives the slot back when the work fails', async () => {
    const slots = new Slots(1);
    await assert.rejects(slots.run(() => Promise.reject(new Error('compile failed'))), /compile failed/);
    assert.equal(await slots.run(() => Promise.resolve('next')), 'next');
  });

  it('leaves the queue when its job is aborted while waiting, without taking a slot', async () => {
    const slots = new Slots(1);
    let release = (): void => {};
    const holder = slots.run(() => new Promise<void>((r) => (release = r)));
    const abort = new AbortController();
    const waiting = slots.run(() => Promise.resolve('ran'), abort.signal);
    const after = slots.run(() => Promise.resolve('after'));
    assert.equal(slots.queued, 2);
    abort.abort(new Error('job timed out'));
    await assert.rejects(waiting, /job timed out/);
    assert.equal(slots.queued, 1);
    release();
    await holder;
    assert.equal(await after, 'after');
  });

  it('reads its size from KBUILD_CPU_SLOTS, and ignores a value that is not a positive integer', () => {
    assert.equal(cpuSlotCount({ KBUILD_CPU_SLOTS: '3' }), 3);
    assert.ok(cpuSlotCount({ KBUILD_CPU_SLOTS: '0' }) >= 1);
    assert.ok(cpuSlotCount({ KBUILD_CPU_SLOTS: 'lots' }) >= 1);
    assert.throws(() => new Slots(0), RangeError);
  });
});
