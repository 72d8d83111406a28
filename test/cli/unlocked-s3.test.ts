import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publishLockFor } from '../../src/cli/publish-lock-option.js';
import { noPublishLock } from '../../src/publish/publish-lock.js';
import { kbuild } from '../helpers/cli.js';

describe('publishing to S3 without a lock is refused unless --unlocked', () => {
  it('build and verify refuse an s3:// store without --redis up front (exit 2), naming both ways out', async () => {
    for (const args of [['build', '--kernels', 'kernels.yaml', '--out', 's3://bucket/farm'], ['verify', '--store', 's3://bucket/farm']]) {
      const result = await kbuild(args, { env: { PATH: process.env['PATH'] ?? '' } });
      assert.equal(result.exitCode, 2, result.stderr);
      assert.match(result.stderr, /nothing would serialize index updates of s3:\/\/bucket\/farm .*refusing to publish/);
      assert.match(result.stderr, /--redis URL/);
      assert.match(result.stderr, /--unlocked/);
    }
  });

  it('--unlocked is the user saying so; a folder store keeps its lock file; --redis gives the Redis lock', async () => {
    assert.equal(publishLockFor('s3://bucket/farm', undefined, true), noPublishLock);
    assert.equal(publishLockFor('/srv/out', undefined, undefined), undefined);
    const lock = publishLockFor('s3://bucket/farm', 'redis://127.0.0.1:6379', undefined);
    assert.match(lock?.name ?? '', /kbuild:publish-lock:s3:\/\/bucket\/farm/);
    await lock?.close();
  });
});
