import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SubmissionStatus } from '../../src/queue/status.js';
import { farmKey } from '../../src/queue/settings.js';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';
import { farmFixture, REDIS_URL, slowToolchain } from '../helpers/farm.js';

const ONE_KERNEL = `probes:\n  - { name: execve, source: probes/execve/execve.bpf.c }\nkernels:\n  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64 }\n`;

describe('the farm tells a live worker from a dead one (real Redis, slow)', { timeout: 10 * 60_000 }, () => {
  let work: string;
  const farm = farmFixture();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-farm-liveness-'));
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), ONE_KERNEL);
  });
  after(async () => {
    await farm.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('a worker registers its toolchain again when Redis lost it; status says a SIGKILLed worker\'s job has no live worker', async () => {
    const q = farm.queue('liveness');
    const redis = new Redis(REDIS_URL);
    try {
      const w = await farm.worker(q, { PATH: await slowToolchain(join(work, 'slow'), 60) });
      const toolchains = await redis.hkeys(farmKey(q, 'toolchains'));
      assert.equal(toolchains.length, 1);
      await redis.del(farmKey(q, 'toolchains')); // as after a Redis restart without persistence

      const submitted = await kbuild(['submit', '--kernels', join(work, 'kernels.yaml'), '--store', join(work, 'store'), '--queue', q, '--redis', REDIS_URL]);
      assert.equal(submitted.exitCode, 0, submitted.stderr);
      await w.waitFor(/compiling/);
      assert.deepEqual(await redis.hkeys(farmKey(q, 'toolchains')), toolchains, 'registered again on job start');

      w.child.kill('SIGKILL');
      await w.child;
      const status = await kbuild(['status', '--queue', q, '--redis', REDIS_URL]);
      assert.match(status.stdout, /1 running \(no live worker: will be retried when one starts\)/);
      assert.match(status.stdout, /: running \(no live worker: will be retried when one starts\)/);
      const json = JSON.parse((await kbuild(['status', '--queue', q, '--redis', REDIS_URL, '--json'])).stdout) as SubmissionStatus;
      assert.equal(json.liveWorkers, 0);
      assert.equal(json.jobs.filter((j) => j.orphaned === true).length, 1);
    } finally {
      redis.disconnect();
    }
  });
});
