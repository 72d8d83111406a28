import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';
import { oneDebianNonCore } from '../helpers/kernel-sets.js';
import { farmFixture, REDIS_URL, type WorkerProcess } from '../helpers/farm.js';

// One real Debian kernel, non-CO-RE only: the smallest real build that downloads, extracts, compiles and publishes.
const KERNELS = oneDebianNonCore();

/** Prometheus text format: `name{labels} value` lines, keyed by `name{labels}` as printed. */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

/** The value of the one series of `name` whose labels include every `key="value"` of `labels`. */
function value(metrics: Map<string, number>, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const found = [...metrics].filter(([series]) => series.startsWith(`${name}{`) && wanted.every((w) => series.includes(w)));
  assert.equal(found.length, 1, `one series ${name} ${wanted.join(',')}; found ${found.map(([s]) => s).join(' | ')}`);
  return found[0]![1];
}

describe('kbuild worker --metrics (real Redis, real Debian headers, slow)', { timeout: 5 * 60 * 1000 }, () => {
  let work: string;
  let cache: string;
  let url: string;
  let worker: WorkerProcess;
  let q: string;
  const farm = farmFixture();
  const scrape = async (): Promise<Map<string, number>> => {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    return parseMetrics(await res.text());
  };
  const submit = (store: string) =>
    kbuild(['submit', '--kernels', join(work, 'kernels.yaml'), '--store', store, '--queue', q, '--redis', REDIS_URL, '--wait', '--json', '--no-verify']);

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-metrics-'));
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), KERNELS);
    // A cache of its own, so the header packages are really downloaded and extracted by this worker;
    // the archive's resolved indexes are copied from the shared cache so the test does not fetch them again.
    cache = join(work, 'cache');
    await cp(join(process.env['KBUILD_CACHE_DIR'] ?? '/var/cache/kbuild', 'debian'), join(cache, 'debian'), { recursive: true }).catch(() => undefined);
    q = farm.queue('metrics');
    worker = await farm.worker(q, { KBUILD_CACHE_DIR: cache }, ['--metrics', '127.0.0.1:0']);
    url = /metrics on (http:\/\/\S+)/.exec(worker.output())?.[1] ?? '';
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, worker.output());
  });
  after(async () => {
    await farm.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('serves every metric before any job, on loopback', async () => {
    const metrics = await scrape();
    for (const phase of ['download', 'extract', 'compile', 'verify', 'publish']) assert.equal(value(metrics, 'kbuild_phase_seconds_count', { phase }), 0, phase);
    assert.ok(metrics.has(`kbuild_process_resident_memory_bytes{queue="${q}",worker="${worker.name}"}`), 'default process metrics, labelled');
    const res = await fetch(url.replace('/metrics', '/other'));
    assert.equal(res.status, 404);
  });

  it('counts a real build: jobs by outcome, download/extract/compile/publish seconds, cache misses, queue states', async () => {
    const result = await submit(join(work, 'store'));
    assert.equal(result.exitCode, 0, result.stderr + result.stdout);
    const metrics = await scrape();
    assert.equal(value(metrics, 'kbuild_worker_jobs_total', { kind: 'build', outcome: 'built' }), 1);
    assert.equal(value(metrics, 'kbuild_worker_jobs_total', { kind: 'publish', outcome: 'completed' }), 1);
    for (const phase of ['download', 'extract', 'compile', 'publish']) {
      assert.ok(value(metrics, 'kbuild_phase_seconds_count', { phase }) >= 1, `${phase} observed`);
      assert.ok(value(metrics, 'kbuild_phase_seconds_sum', { phase }) > 0, `${phase} took time`);
      assert.ok(value(metrics, 'kbuild_phase_seconds_bucket', { phase, le: '+Inf' }) >= 1, `${phase} histogram buckets`);
    }
    // --no-verify: no verify job ran, and the histogram says so.
    assert.equal(value(metrics, 'kbuild_phase_seconds_count', { phase: 'verify' }), 0);
    assert.equal(value(metrics, 'kbuild_cache_lookups_total', { cache: 'store', result: 'miss' }), 1);
    assert.ok(value(metrics, 'kbuild_cache_lookups_total', { cache: 'debs', result: 'miss' }) >= 2, 'both header packages downloaded');
    assert.ok(value(metrics, 'kbuild_queue_jobs', { state: 'completed' }) >= 2, 'the build and the publish job');
    assert.equal(value(metrics, 'kbuild_queue_jobs', { state: 'failed' }), 0);
  });

  it('counts a build the store already holds as a store cache hit, with no download', async () => {
    const before = await scrape();
    // The same folder spelled as a file:// URL: new queue jobs, the same stored results.
    const result = await submit(`file://${join(work, 'store')}`);
    assert.equal(result.exitCode, 0, result.stderr + result.stdout);
    const metrics = await scrape();
    assert.equal(value(metrics, 'kbuild_worker_jobs_total', { kind: 'build', outcome: 'skipped' }), 1);
    assert.equal(value(metrics, 'kbuild_cache_lookups_total', { cache: 'store', result: 'hit' }), 1);
    const downloads = (m: Map<string, number>): number => value(m, 'kbuild_phase_seconds_count', { phase: 'download' });
    assert.equal(downloads(metrics), downloads(before), 'nothing downloaded');
  });
});
