import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadKernelsFile } from '../../src/config/load-kernels-file.js';
import { createLogger } from '../../src/log.js';
import { sha256Hex } from '../../src/job/build-id.js';
import { planBuild } from '../../src/job/plan.js';
import { artifactKey } from '../../src/job/processor.js';
import { jobArch, jobKernel, jobLabel } from '../../src/job/types.js';
import type { BuildStep } from '../../src/queue/build-step.js';
import { startFarmWorker } from '../../src/queue/farm-worker.js';
import { openFarm } from '../../src/queue/open-farm.js';
import { farmSettings } from '../../src/queue/settings.js';
import type { SubmissionStatus } from '../../src/queue/status.js';
import { StoreCache } from '../../src/queue/store-cache.js';
import { submitPlan } from '../../src/queue/submit.js';
import { openStore } from '../../src/store/open-store.js';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';
import { REDIS_URL, removeQueue, uniqueQueue } from '../helpers/farm.js';

const ONE_KERNEL = `probes:\n  - { name: execve, source: probes/execve/execve.bpf.c }\nkernels:\n  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64 }\n`;

/** Stores a tiny object per job; for per-kernel jobs it reports bytes the store does not hold (as if another build replaced them). */
function supersedingStep(openStore: (url: string) => Promise<import('../../src/store/types.js').ArtifactStore>): BuildStep {
  return async (data) => {
    const job = data.job;
    if (job.kind === 'btf') return { status: 'built' };
    const bytes = Buffer.from(`${jobLabel(job)}\n`);
    const key = artifactKey(job);
    await (await openStore(data.store)).putBytes(key, bytes);
    const reported = job.kind === 'non-core' ? Buffer.from('other bytes\n') : bytes;
    return {
      status: 'built',
      artifact: {
        path: key, probe: job.probe.name, kind: job.kind, arch: jobArch(job), kernel: { ...jobKernel(job) },
        size: reported.length, sha256: sha256Hex(reported), buildId: sha256Hex(Buffer.from(key)), toolchain: 'test', verification: [],
      },
    };
  };
}

describe('builds the publish step refuses count as failures (real Redis)', { timeout: 2 * 60_000 }, () => {
  let work: string;
  const q = uniqueQueue('publish-failures');

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-publish-failures-'));
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), ONE_KERNEL);
  });
  after(async () => {
    await removeQueue(q);
    await rm(work, { recursive: true, force: true });
  });

  it('status says failed (exit 1), with the publish step\'s reason, instead of done', async () => {
    const settings = farmSettings({ queue: q, redis: REDIS_URL });
    const stores = new StoreCache();
    const worker = await startFarmWorker({ settings, concurrency: 2, lockDurationMs: 30_000, stalledIntervalMs: 15_000, publishPollMs: 100, log: createLogger(), build: supersedingStep(stores.open) });
    const farm = await openFarm(settings);
    try {
      const plan = await planBuild(await loadKernelsFile(join(work, 'kernels.yaml')));
      const store = join(work, 'store');
      const handle = await openStore(store);
      await submitPlan(farm.queue, farm.redis, plan, { store, storeHandle: handle, timeoutMs: 60_000, attempts: 1, backoffMs: 1000 });
      await handle.close();
      let status: SubmissionStatus;
      for (;;) {
        const result = await kbuild(['status', '--queue', q, '--redis', REDIS_URL, '--json']);
        status = JSON.parse(result.stdout) as SubmissionStatus;
        if (status.publish.state !== 'pending') {
          assert.equal(result.exitCode, 1, result.stderr);
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(status.publish.state, 'published');
      assert.equal(status.counts.failed, 1);
      const failed = status.jobs.find((j) => j.state === 'failed');
      assert.equal(failed?.error?.code, 'E_SUPERSEDED');
      assert.match(failed?.error?.message ?? '', /not published: .*changed in the store/);
      const human = await kbuild(['status', '--queue', q, '--redis', REDIS_URL]);
      assert.match(human.stdout, /1 failed/);
      assert.match(human.stdout, /FAILED E_SUPERSEDED: not published/);
    } finally {
      await farm.close();
      await worker.close();
      await stores.close();
    }
  });
});
