import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.js';
import { farmSettings, openRedis, redactUrl } from './settings.js';

describe('farm settings', () => {
  it('takes flags over the environment over defaults', () => {
    assert.deepEqual(farmSettings({}, {}), { redisUrl: 'redis://127.0.0.1:6379', queue: 'kbuild' });
    assert.deepEqual(farmSettings({}, { KBUILD_REDIS_URL: 'redis://a:1', KBUILD_QUEUE: 'env' }), { redisUrl: 'redis://a:1', queue: 'env' });
    assert.deepEqual(farmSettings({ redis: 'redis://b:2', queue: 'flag' }, { KBUILD_REDIS_URL: 'redis://a:1', KBUILD_QUEUE: 'env' }), {
      redisUrl: 'redis://b:2',
      queue: 'flag',
    });
  });

  it('refuses queue names that would reach into other keys, and non-Redis URLs', () => {
    for (const queue of ['a:b', '../x', '', 'a*', 'x'.repeat(65)]) assert.throws(() => farmSettings({ queue }, {}), ConfigError, queue);
    assert.throws(() => farmSettings({ redis: 'http://127.0.0.1:6379' }, {}), /must start with redis:\/\//);
  });

  it('reports a Redis it cannot reach, without the password', async () => {
    await assert.rejects(openRedis('redis://:secret@127.0.0.1:9'), (err: Error) => /cannot reach Redis at redis:\/\/\*\*\*@127\.0\.0\.1:9/.test(err.message) && !err.message.includes('secret'));
    assert.equal(redactUrl('redis://u:p@h:1/0'), 'redis://***@h:1/0');
  });
});
