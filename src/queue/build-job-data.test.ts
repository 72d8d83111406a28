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
    // The shipped kernels.yaml asks one kernel for external BTF: that request travels through the queue.
    assert.ok(plan.jobs.some((j) => j.kind === 'non-core' && j.externalBtf !== undefined));
  });

  it('refuses names that would escape the store or the scratch folder', () => {
    const job = plan.jobs.find((j) => j.kind === 'non-core')!;
    const bad = [
      data({ ...job, kernel: { ...(job as { kernel: object }).kernel, release: '../../etc' } }),
      data({ ...job, probe: { ...job.probe, name: '../x' } }),
      data({ ...job, probe: { ...job.probe, files: { ...job.probe.files, '../evil.h': '' } } }),
      data(job, 'relative/out'),
      { ...data(job), mirrors: { debian: 'file:///etc' } },
      data({ ...job, executor: 'ssh' }),
      data({ ...job, unexpected: true }),
      data({ ...job, externalBtf: { when: 'always', coreBtfKernel: (job as { kernel: object }).kernel, sources: ['archive'], archive: 'relative/../etc' } }),
    ];
    for (const input of bad) assert.throws(() => parseBuildJobData(input), /E_BAD_JOB|malformed build job/);
  });

  it('refuses sources that do not match the digest the build id is made of', () => {
    const job = plan.jobs[0]!;
    const files = { ...job.probe.files, [job.probe.entry]: `${job.probe.files[job.probe.entry] ?? ''}\n// changed\n` };
    assert.throws(() => parseBuildJobData(data({ ...job, probe: { ...job.probe, files } })), /do not match their digest/);
  });
});
