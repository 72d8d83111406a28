import assert from 'node:assert/strict';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CheckResult } from '../../src/doctor/types.js';
import { farmKey } from '../../src/queue/settings.js';
import { CLI, REPO_ROOT } from '../helpers/cli.js';
import { REDIS_URL, removeQueue, uniqueQueue } from '../helpers/farm.js';

const sharedStoreOf = async (store: string, queue: string): Promise<{ exitCode: number; check: CheckResult }> => {
  const r = await execa(process.execPath, [CLI, 'doctor', '--for', 'farm', '--redis', REDIS_URL, '--store', store, '--json'], { cwd: REPO_ROOT, env: { KBUILD_QUEUE: queue }, reject: false });
  const check = (JSON.parse(String(r.stdout)) as { checks: CheckResult[] }).checks.find((c) => c.id === 'shared-store');
  assert.ok(check, String(r.stdout));
  return { exitCode: r.exitCode ?? -1, check };
};

describe('doctor --for farm: a folder store on this machine\'s disk (real Redis)', () => {
  let work: string;
  const queue = uniqueQueue('doctor-shared');
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-doctor-shared-'));
  });
  after(async () => {
    await removeQueue(queue);
    await rm(work, { recursive: true, force: true });
  });

  it('warns when only this machine\'s workers are known, and is missing (exit 1) once a worker on another host registered', async () => {
    const alone = await sharedStoreOf(join(work, 'store'), queue);
    assert.equal(alone.check.status, 'warn', alone.check.detail);
    assert.match(alone.check.detail, /folder store \S+\/store is on this machine's own disk: only workers on this machine see it/);
    assert.match(alone.check.fix ?? '', /use an S3 store/);

    const redis = new Redis(REDIS_URL);
    try {
      await redis.hset(farmKey(queue, 'hosts'), 'build-host-2', new Date().toISOString());
    } finally {
      redis.disconnect();
    }
    const shared = await sharedStoreOf(join(work, 'store'), queue);
    assert.equal(shared.check.status, 'missing');
    assert.equal(shared.exitCode, 1);
    assert.match(shared.check.detail, /and workers on build-host-2 take jobs from the queue: they cannot see it \(their jobs fail with E_STORE_NOT_SHARED\)/);
  });

  it('says nothing about an S3 store', async () => {
    const { check } = await sharedStoreOf('s3://bucket/farm', queue);
    assert.equal(check.status, 'skipped');
  });
});
