import assert from 'node:assert/strict';
import { execa } from 'execa';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SubmissionStatus } from '../../src/queue/status.js';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';
import { farmFixture, REDIS_URL, slowToolchain, type WorkerProcess } from '../helpers/farm.js';

const ONE_KERNEL = (mirror?: string): string =>
  `probes:\n  - { name: execve, source: probes/execve/execve.bpf.c }\nkernels:\n  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64, btf: true }\n` +
  (mirror === undefined ? '' : `mirrors:\n  debian: ${mirror}\n`);

type Summary = SubmissionStatus & { enqueued: number };

describe('farm failure policy: SIGTERM, time limit, retries (real Redis, slow)', { timeout: 15 * 60 * 1000 }, () => {
  let work: string;
  const farm = farmFixture();
  const queue = farm.queue;
  const worker = farm.worker;
  const submit = (q: string, args: string[], env: Record<string, string> = {}) =>
    kbuild(['submit', '--kernels', join(work, 'kernels.yaml'), '--store', join(work, `store-${q}`), '--queue', q, '--redis', REDIS_URL, ...args], { env });

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-farm-policy-'));
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), ONE_KERNEL());
  });
  after(async () => {
    await farm.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('SIGTERM during a build lets it finish, takes nothing new, and exits 0', async () => {
    const q = queue('term');
    const w = await worker(q, { PATH: await slowToolchain(join(work, 'slow'), 3) });
    assert.equal((await submit(q, [])).exitCode, 0);
    await w.waitFor(/compiling/);
    w.child.kill('SIGTERM');
    const result = await w.child;
    assert.equal(result.exitCode, 0, w.output());
    const output = w.output();
    assert.match(output, /SIGTERM, finishing running builds[\s\S]*built execve[\s\S]*stopped/);
    assert.equal(output.match(/started /g)?.length, 1, 'no job taken after SIGTERM');
    const status = JSON.parse((await kbuild(['status', '--queue', q, '--redis', REDIS_URL, '--json'])).stdout) as SubmissionStatus;
    assert.equal(status.counts.done, 1);
    assert.equal(status.counts.queued, 1, 'the other job waits for the next worker');
  });

  it('a job past its time limit fails at once and its compiler is killed', async () => {
    const q = queue('timeout');
    // 317: a duration no other process on the machine is likely to sleep for.
    await worker(q, { PATH: await slowToolchain(join(work, 'hang'), 317, true) });
    const result = await submit(q, ['--wait', '--json', '--job-timeout', '3']);
    assert.equal(result.exitCode, 1, result.stderr);
    const summary = JSON.parse(result.stdout) as Summary;
    assert.equal(summary.counts.failed, 2);
    for (const job of summary.jobs) {
      assert.equal(job.error?.code, 'E_TIMEOUT', job.label);
      assert.match(job.error?.message ?? '', /time limit of 3s/);
      assert.equal(job.attempts, 1);
    }
    const left = await execa('pgrep', ['-fx', 'sleep 317'], { reject: false });
    assert.equal(String(left.stdout).trim(), '', 'the hung compiler was killed');
  });

  it('archive 5xx errors are retried with backoff, then reported', async () => {
    const q = queue('5xx');
    let requests = 0;
    const server: Server = createServer((_req, res) => {
      requests++;
      res.writeHead(503).end('busy');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await writeFile(join(work, 'kernels.yaml'), ONE_KERNEL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/debian`));
      await worker(q);
      const result = await submit(q, ['--wait', '--json', '--attempts', '2'], { KBUILD_RETRY_DELAY_MS: '200' });
      assert.equal(result.exitCode, 1, result.stderr);
      const summary = JSON.parse(result.stdout) as Summary;
      for (const job of summary.jobs) {
        assert.equal(job.state, 'failed');
        assert.equal(job.error?.code, 'E_NETWORK', job.label);
        assert.match(job.error?.message ?? '', /503/);
        assert.equal(job.attempts, 2, 'the queue retried the job');
      }
      assert.ok(requests >= 4, `the mirror was asked again (${requests} requests)`);
    } finally {
      server.close();
      await writeFile(join(work, 'kernels.yaml'), ONE_KERNEL());
    }
  });
});
