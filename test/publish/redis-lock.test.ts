import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisPublishLock } from '../../src/publish/redis-lock.js';

const REDIS = process.env['KBUILD_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('Redis publish lock (real Redis)', () => {
  let redis: Redis;
  // A fresh store name per run: the lock key is derived from it.
  const store = `s3://test-${randomBytes(4).toString('hex')}/lock`;

  before(() => {
    redis = new Redis(REDIS);
  });
  after(async () => {
    await redis.del(`kbuild:publish-lock:${store}`);
    redis.disconnect();
  });

  it('is renewed while held: a publish longer than the ttl keeps others out', async () => {
    const a = new RedisPublishLock(REDIS, store, { ttlMs: 300 });
    const b = new RedisPublishLock(REDIS, store, { ttlMs: 300 });
    const order: string[] = [];
    // b asks only once a holds the lock (on a busy machine a's first connection can take longer than any fixed delay).
    let started!: () => void;
    const aHolds = new Promise<void>((resolve) => (started = resolve));
    try {
      await Promise.all([
        a.withLock(async (lease) => {
          order.push('a start');
          started();
          await sleep(1200);
          lease.assertHeld();
          order.push('a end');
        }),
        aHolds.then(() => b.withLock(async () => void order.push('b'))),
      ]);
    } finally {
      await a.close();
      await b.close();
    }
    assert.deepEqual(order, ['a start', 'a end', 'b']);
    assert.equal(await redis.exists(`kbuild:publish-lock:${store}`), 0, 'released');
  });

  it('tells a publisher that lost its lock, and never deletes a lock it does not own', async () => {
    const a = new RedisPublishLock(REDIS, store, { ttlMs: 300 });
    try {
      await assert.rejects(
        a.withLock(async (lease) => {
          // Another publisher took over (as after an expiry): our renewal fails, our release must not delete theirs.
          await redis.set(`kbuild:publish-lock:${store}`, 'someone-else');
          await sleep(400);
          lease.assertHeld();
        }),
        { code: 'E_PUBLISH_LOCK_LOST' },
      );
      assert.equal(await redis.get(`kbuild:publish-lock:${store}`), 'someone-else');
    } finally {
      await a.close();
    }
  });

  it('gives up after waitMs with a clear error', async () => {
    await redis.set(`kbuild:publish-lock:${store}`, 'held', 'PX', 5000);
    const a = new RedisPublishLock(REDIS, store, { waitMs: 300 });
    try {
      await assert.rejects(a.withLock(async () => undefined), { code: 'E_PUBLISH_LOCK' });
    } finally {
      await a.close();
    }
  });
});
