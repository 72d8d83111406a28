import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadKernelsFile } from '../config/load-kernels-file.js';
import { planBuild } from '../job/plan.js';
import { parseBuildJobData } from './build-job-data.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('build job data from the queue', async () => {
  const plan = await planBuild(await loadKernelsFile(join(ROOT, 'kernels.yaml')));
  const data = (job: unknown, store = '/srv/out') => ({ job, store, mirrors: {}, timeoutMs: 1000 });

  it('accepts every job the planner makes', () => {
    for (const job of plan.jobs) assert.equal(parseBuildJobData(data(job)).job, job);
    // The shipped kernels.yaml asks one kernel for external BTF: that request travels through the queue as its own job.
    assert.ok(plan.jobs.some((j) => j.kind === 'btf' && j.request.when === 'always'));
  });

  it('refuses names that would escape the store or the scratch folder', () => {
    const job = plan.jobs.find((j) => j.kind === 'non-core')!;
    const bad = [
      data({ ...job, kernel: { ...(job as { kernel: object }).kernel, release: '../../etc' } }),
      data({ ...job, probe: { ...job.probe, name: '../x' } }),
      data({ ...job, probe: { ...job.probe, sources: ['../evil.c'] } }),
      data({ ...job, probe: { ...job.probe, includes: ['/etc'] } }),
      data({ ...job, probe: { ...job.probe, cflags: { core: [], 'non-core': ['-fplugin=/tmp/x.so'] } } }),
      data({ ...job, probe: { ...job.probe, bundle: { ...job.probe.bundle, sha256: 'x' } } }),
      data(job, 'relative/out'),
      { ...data(job), mirrors: { debian: 'file:///etc' } },
      data({ ...job, executor: 'ssh' }),
      data({ ...job, unexpected: true }),
      data({ kind: 'btf', probe: job.probe, kernel: (job as { kernel: object }).kernel, request: { when: 'always', coreBtfKernel: (job as { kernel: object }).kernel, sources: ['archive'], archive: 'relative/../etc' } }),
    ];
    for (const input of bad) assert.throws(() => parseBuildJobData(input), /E_BAD_JOB|malformed build job/);
  });

  it('refuses settings or a bundle that do not match the digest the build id is made of', () => {
    const job = plan.jobs[0]!;
    const other = { ...job.probe.bundle, sha256: 'a'.repeat(64) };
    assert.throws(() => parseBuildJobData(data({ ...job, probe: { ...job.probe, bundle: other } })), /do not match their digest/);
    assert.throws(() => parseBuildJobData(data({ ...job, probe: { ...job.probe, mcpu: 'v3' } })), /do not match their digest/);
  });
});
