// Farm overhead: ~1,000 kernel × probe jobs whose build step is trivial, through the real
// submit path, real worker processes and the real publish step, against Redis at
// $KBUILD_REDIS_URL (default 127.0.0.1:6379). Prints throughput and per-job overhead
// for 1, 2 and 4 workers. Run: npm run bench:farm  (BENCH_JOBS, BENCH_WORKERS, BENCH_CONCURRENCY)
import { execa } from 'execa';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKernelsFile } from '../src/config/load-kernels-file.js';
import { run } from '../src/exec/exec.js';
import { planBuild } from '../src/job/plan.js';
import type { BuildJobResult } from '../src/queue/job-data.js';
import { openFarm } from '../src/queue/open-farm.js';
import { publishState } from '../src/queue/queue-view.js';
import { BULL_PREFIX, farmKey, farmSettings } from '../src/queue/settings.js';
import { submitPlan } from '../src/queue/submit.js';
import { openStore } from '../src/store/open-store.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROBES = 4;
const jobsWanted = Number(process.env['BENCH_JOBS'] ?? 1000);
const workerCounts = (process.env['BENCH_WORKERS'] ?? '1,2,4').split(',').map(Number);
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 1);

const work = await mkdtemp(join(tmpdir(), 'kbuild-farm-bench-'));
try {
  const kernels = Math.max(1, Math.round(jobsWanted / PROBES) - 1);
  const lines = ['probes:'];
  for (let p = 0; p < PROBES; p++) {
    await cp(join(ROOT, 'probes/execve'), join(work, `p${p}`), { recursive: true });
    lines.push(`  - { name: probe-${p}, source: p${p}/execve.bpf.c }`);
  }
  lines.push('kernels:');
  for (let k = 1; k <= kernels; k++) lines.push(`  - { distro: debian, release: 6.1.0-${k}-amd64, arch: x86_64 }`);
  await writeFile(join(work, 'kernels.yaml'), `${lines.join('\n')}\n`);
  const plan = await planBuild(await loadKernelsFile(join(work, 'kernels.yaml')));

  // What the trivial command costs on its own, for reference.
  const t0 = performance.now();
  for (let i = 0; i < 50; i++) await run('true', []);
  const stepMs = (performance.now() - t0) / 50;
  console.log(`farm bench: ${plan.jobs.length} jobs, trivial step (exec true) ${stepMs.toFixed(2)} ms, worker concurrency ${concurrency}`);
  console.log(`machine: ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (workers, Redis and this process share them)`);
  console.log('workers | submit ms | build+publish s | jobs/s | slot-ms per job | step ms (in worker) | farm overhead per job (ms)');

  for (const count of workerCounts) {
    const queue = `bench-${count}-${process.pid}`;
    const settings = farmSettings({ queue });
    const children = Array.from({ length: count }, () =>
      execa('node', ['--import', 'tsx', join(ROOT, 'bench/farm-worker.ts'), queue, String(concurrency)], { cwd: ROOT, reject: false }),
    );
    await Promise.all(children.map((c) => new Promise<void>((r) => c.stdout?.once('data', () => r()))));
    const farm = await openFarm(settings);
    try {
      const store = join(work, `store-${count}`);
      await mkdir(store);
      const s0 = performance.now();
      const outcome = await submitPlan(farm.queue, farm.redis, plan, { store, storeHandle: await openStore(store), timeoutMs: 60_000, attempts: 1, backoffMs: 1000 });
      const submitMs = performance.now() - s0;
      let published = await publishState(farm.queue, outcome.record.publishJobId);
      while (published.state === 'pending') {
        await new Promise((r) => setTimeout(r, 20));
        published = await publishState(farm.queue, outcome.record.publishJobId);
      }
      const wallMs = performance.now() - s0 - submitMs;
      if (published.state !== 'published' || published.result?.artifacts !== plan.jobs.length) {
        throw new Error(`bench run did not publish every job: ${JSON.stringify(published)}`);
      }
      // Slot time per job (wall × workers × concurrency / jobs) minus what the step itself took inside the worker.
      const slotMs = (wallMs * count * concurrency) / plan.jobs.length;
      const results = await Promise.all(outcome.record.jobs.map((j) => farm.queue.getJob(j.id)));
      const inStepMs = results.reduce((sum, j) => sum + ((j?.returnvalue as BuildJobResult | undefined)?.durationMs ?? 0), 0) / plan.jobs.length;
      console.log(
        [count, submitMs.toFixed(0), (wallMs / 1000).toFixed(2), (plan.jobs.length / (wallMs / 1000)).toFixed(0), slotMs.toFixed(2), inStepMs.toFixed(2), (slotMs - inStepMs).toFixed(2)].join(' | '),
      );
    } finally {
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(children);
      await farm.queue.obliterate({ force: true });
      const keys = await farm.redis.keys(`${farmKey(queue)}:*`);
      if (keys.length > 0) await farm.redis.del(...keys);
      const rest = await farm.redis.keys(`${BULL_PREFIX}:${queue}:*`);
      if (rest.length > 0) await farm.redis.del(...rest);
      await farm.close();
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
