import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { after, describe, it } from 'node:test';
import { farmKey } from '../../src/queue/settings.js';
import { registeredToolchains, registerWorker } from '../../src/queue/toolchains.js';
import { REDIS_URL, removeQueue, uniqueQueue } from '../helpers/farm.js';

describe('toolchain registry: job ids follow the set of toolchains, not the last worker (real Redis)', () => {
  const queues: string[] = [];
  const redis = new Redis(REDIS_URL);
  after(async () => {
    for (const q of queues) await removeQueue(q);
    redis.disconnect();
  });

  it('two workers with different compilers give the same set in either start order, and a wipe is healed by registering again', async () => {
    const [first, second] = [uniqueQueue('toolchains'), uniqueQueue('toolchains')];
    queues.push(first, second);
    await registerWorker(redis, first, 'clang 14', 'a:1');
    await registerWorker(redis, first, 'clang 19', 'b:2');
    await registerWorker(redis, second, 'clang 19', 'b:2');
    await registerWorker(redis, second, 'clang 14', 'a:1');
    // A worker starting again (a restart) changes nothing either.
    await registerWorker(redis, second, 'clang 19', 'b:3');
    assert.equal(await registeredToolchains(redis, first), 'clang 14\nclang 19');
    assert.equal(await registeredToolchains(redis, second), await registeredToolchains(redis, first));

    await redis.del(farmKey(first, 'toolchains')); // Redis restarted empty
    assert.equal(await registeredToolchains(redis, first), 'unregistered');
    await registerWorker(redis, first, 'clang 19', 'b:2');
    await registerWorker(redis, first, 'clang 14', 'a:1');
    assert.equal(await registeredToolchains(redis, first), 'clang 14\nclang 19');
  });
});
