// bench/fleet: Debian's archive (every kernel of x86_64 and arm64, or an even sample
// of it) built and verified through the farm on this machine — real Redis, a real
// worker with its Prometheus endpoint, the real archive — and, in the same run, the
// naive per-kernel loop (download the header packages, dpkg-deb -x, clang) on a sample
// as the baseline. Prints wall time, seconds per phase, peak RSS, cache and store size,
// index and shard sizes, what an agent downloads for one pick, a warm rebuild, and a
// no-op resync.
//
//   npm run bench:fleet                       # an even sample of 8 kernels (4 per arch)
//   FLEET_KERNELS=all npm run bench:fleet     # the whole archive (hours, ~20 GB of downloads)
//   FLEET_VERIFY=0 FLEET_NAIVE=3 FLEET_CONCURRENCY=2 FLEET_CACHE=/var/cache/kbuild-fleet
import { execa } from 'execa';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countingServer } from '../../test/helpers/counting-server.js';
import { cacheLookups, minus, phaseSeconds, scrape, type PhaseSeconds } from './metrics.js';
import { naiveLoop } from './naive.js';
import { evenly, pickSample, type CrawledKernel } from './sample.js';
import { folderBytes, shardSizes } from './sizes.js';
import { watchTreeRss } from './tree-rss.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'bin', 'kbuild.js');
const wanted = process.env['FLEET_KERNELS'] ?? '8';
const verify = process.env['FLEET_VERIFY'] !== '0';
const naiveCount = Number(process.env['FLEET_NAIVE'] ?? 3);
// Jobs in flight per worker: the worker's default (twice its CPU slots) unless set.
const concurrency = process.env['FLEET_CONCURRENCY'];
const metricsPort = 19000 + (process.pid % 1000);
const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;
const kb = (b: number): string => `${(b / 1024).toFixed(1)} KB`;
const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const work = await mkdtemp(join(tmpdir(), 'kbuild-fleet-'));
const cache = process.env['FLEET_CACHE'] ?? join(work, 'cache');
const env = { KBUILD_CACHE_DIR: cache };
const queue = `fleet-${process.pid}`;
const store = join(work, 'store');
const kbuild = (args: string[], extra: Record<string, string> = {}) =>
  execa('node', [CLI, ...args], { cwd: work, env: { ...env, ...extra }, reject: false, all: true });

/**
 * The worker's own account of its per-kernel jobs ("built debian 6.1.0-50-amd64 x86_64 (1.2s)"),
 * during the cold build: how long one kernel's job takes from start to stored, waits for a CPU slot included.
 */
function jobTimes(workerOutput: string, coldMs: number): string {
  const seconds = [...workerOutput.matchAll(/: built \S+ debian \S+ \S+ \((\d+(?:\.\d+)?)s\)$/gm)].map((m) => Number(m[1]));
  if (seconds.length === 0) return 'per-kernel jobs: none reported';
  const sorted = [...seconds].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const busy = seconds.reduce((a, b) => a + b, 0);
  return `per-kernel jobs: ${seconds.length}, median ${at(0.5).toFixed(1)} s, p90 ${at(0.9).toFixed(1)} s; job-seconds ${busy.toFixed(0)} over ${(coldMs / 1000).toFixed(0)} s of cold wall time`;
}

/** Kernels by their QEMU outcome: a kernel is ok when every object loaded there (its own and the CO-RE ones) is. */
function verifiedKernels(artifacts: readonly { verification: readonly { method: string; result: string; kernel?: { release: string } }[]; kernel?: { release: string } }[], total: number): string {
  const byKernel = new Map<string, string[]>();
  for (const a of artifacts) {
    for (const v of a.verification) {
      const release = v.kernel?.release ?? a.kernel?.release;
      if (v.method !== 'qemu' || release === undefined) continue;
      byKernel.set(release, [...(byKernel.get(release) ?? []), v.result]);
    }
  }
  const counts = new Map<string, number>();
  for (const results of byKernel.values()) {
    const worst = ['failed', 'inconclusive', 'not-verifiable', 'ok'].find((r) => results.includes(r)) ?? 'ok';
    counts.set(worst, (counts.get(worst) ?? 0) + 1);
  }
  const list = [...counts].map(([r, c]) => `${c} ${r}`).join(', ');
  return `kernels booted and loaded: ${list || 'none'} (of ${total}; "ok" means every object of the kernel loaded there)`;
}

try {
  console.log(`fleet bench: ${availableParallelism()} cores, ${concurrency ?? 'default'} jobs in flight, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; cache ${cache}; verify ${verify ? 'on' : 'off'}`);
  const c0 = performance.now();
  const crawl = await kbuild(['crawl', 'debian', '--arch', 'x86_64', 'arm64', '--json']);
  if (crawl.exitCode !== 0) throw new Error(`crawl failed: ${crawl.all}`);
  const crawled = (JSON.parse(crawl.stdout) as { kernels: CrawledKernel[] }).kernels;
  const kernels = pickSample(crawled, wanted === 'all' ? crawled.length : Number(wanted));
  console.log(`crawl: ${crawled.length} kernels in the archive (${s(performance.now() - c0)}); building ${kernels.length}`);

  await cp(join(ROOT, 'probes/execve'), join(work, 'probes/execve'), { recursive: true });
  await mkdir(store);
  await kbuild(['keygen', '--out', join(work, 'keys')]);
  const key = join(work, 'keys', 'kbuild-index.key');
  const btfFrom = (arch: string) => kernels.find((k) => k.arch === arch) ?? crawled.find((k) => k.arch === arch);
  const yaml = [
    'probes:',
    '  - { name: execve, source: probes/execve/execve.bpf.c }',
    'core:',
    '  btfFrom:',
    ...['x86_64', 'arm64'].map((a) => `    ${a}: { distro: debian, release: ${btfFrom(a)?.release} }`),
    'kernels:',
    ...kernels.map((k) => `  - { distro: debian, release: ${k.release}, arch: ${k.arch} }`),
  ].join('\n');
  await writeFile(join(work, 'kernels.yaml'), `${yaml}\n`);

  const jobs = concurrency === undefined ? [] : ['-c', concurrency];
  const worker = execa('node', [CLI, 'worker', '--queue', queue, ...jobs, '--signing-key', key, '--metrics', String(metricsPort)], { cwd: work, env, reject: false, all: true });
  let workerOutput = '';
  worker.all?.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
  const rss = watchTreeRss(worker.pid ?? 0);
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const timed = async (label: string, args: string[]): Promise<{ ms: number; phases: PhaseSeconds }> => {
    const before = phaseSeconds(await scrape(metricsUrl).catch(() => ''));
    const t0 = performance.now();
    const r = await kbuild(args);
    const ms = performance.now() - t0;
    if (r.exitCode !== 0) console.log(`${label}: exit ${r.exitCode}: ${r.all?.split('\n').slice(-5).join(' | ')}`);
    return { ms, phases: minus(phaseSeconds(await scrape(metricsUrl).catch(() => '')), before) };
  };
  const submit = ['submit', '--queue', queue, '--kernels', 'kernels.yaml', '--store', store, '--wait', '--json', '--no-verify'];
  await new Promise((r) => setTimeout(r, 3000)); // the worker registers its toolchain
  const cold = await timed('cold build', submit);
  const coldMetrics = await scrape(metricsUrl);
  const coldJobs = jobTimes(workerOutput, cold.ms);
  const peak = await rss.stop();
  // Warm, nothing changed: every job's build id is in the index, so nothing is rebuilt.
  const unchanged = await timed('resubmit, unchanged', submit);
  // Verification through the farm, timed on its own: the same submission with a QEMU job per kernel;
  // its builds are in the index already, so the workers only boot (one boot per kernel).
  const verified = verify ? await timed('verify', submit.filter((a) => a !== '--no-verify')) : undefined;

  // Warm: a changed probe source rebuilds every kernel from the caches.
  await appendFile(join(work, 'probes/execve/execve.bpf.c'), '\n/* fleet bench: warm rebuild */\n');
  const warm = await timed('warm build', submit);

  // No-op resync: every kernel of the build set is in the index already.
  const releases = kernels.map((k) => k.release.replace(/[.+]/g, '\\$&')).join('|');
  const r0 = performance.now();
  const resync = await kbuild(['sync', '--store', store, '--kernels', 'kernels.yaml', '--arch', 'x86_64', 'arm64', '--release-filter', `^(${releases})$`, '--dry-run', '--json']);
  const resyncMs = performance.now() - r0;

  worker.kill('SIGTERM');
  await worker;

  const server = await countingServer(store);
  const host = kernels[0];
  const pick = await kbuild(['pick', '--store', `${server.url}/`, '--distro', 'debian', '--release', host?.release ?? '', '--arch', host?.arch ?? 'x86_64', '--btf', 'yes', '--public-key', join(work, 'keys', 'kbuild-index.pub'), '--json']);
  await server.close();

  const built = JSON.parse(await readFile(join(store, 'index.json'), 'utf8')) as {
    artifacts: { kind: string; arch: string; kernel?: { release: string }; verification: { method: string; result: string; kernel?: { release: string } }[] }[];
    failures: { kernel?: { release: string }; code?: string; message?: string }[];
  };
  // Per-kernel figures count the kernels built: a kernel whose packages the mirror lacks (404) fails at once and would flatter them.
  const builtKernels = kernels.filter((k) => built.artifacts.some((a) => a.kind === 'non-core' && a.arch === k.arch && a.kernel?.release === k.release));
  const naive = naiveCount > 0 ? await naiveLoop(evenly(builtKernels, naiveCount), cache, join(work, 'naive'), join(ROOT, 'probes/execve')) : undefined;

  const n = Math.max(1, builtKernels.length);
  const phases = (p: PhaseSeconds) => Object.entries(p).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
  console.log(`\ncold build: ${s(cold.ms)} wall for ${kernels.length} kernels, ${builtKernels.length} built (${s(cold.ms / n)} per kernel built, CO-RE objects of both arches included)`);
  console.log(`  seconds per phase, summed over jobs: ${phases(cold.phases)}`);
  console.log(`  ${coldJobs}`);
  console.log(`  peak RSS: worker ${mb(peak.rootPeakBytes)}, worker with its children ${mb(peak.treePeakBytes)} (sampled every 0.5 s)`);
  console.log(`  cache lookups: ${Object.entries(cacheLookups(coldMetrics)).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (verified !== undefined) {
    console.log(`verify through the farm: ${s(verified.ms)} wall (${s(verified.ms / n)} per kernel), ${((100 * verified.ms) / (verified.ms + cold.ms)).toFixed(0)}% of build + verify; ${phases(verified.phases)}`);
    console.log(`  ${verifiedKernels(built.artifacts, kernels.length)}`);
  }
  const why = new Map<string, number>();
  for (const f of built.failures) why.set(f.code ?? '?', (why.get(f.code ?? '?') ?? 0) + 1);
  console.log(`  index: ${built.artifacts.length} artifacts, ${built.failures.length} failures (${[...why].map(([c, n]) => `${n} ${c}`).join(', ') || 'none'})`);
  console.log(`resubmit, nothing changed: ${s(unchanged.ms)} wall (${s(unchanged.ms / n)} per kernel); ${phases(unchanged.phases) || 'no phase ran'}`);
  console.log(`warm build: ${s(warm.ms)} wall (${s(warm.ms / n)} per kernel); ${phases(warm.phases)}`);
  console.log(`no-op resync of the ${n} kernels: ${s(resyncMs)} (exit ${resync.exitCode}): ${(resync.exitCode === 0 ? resync.stdout : resync.all ?? '').slice(0, 300)}`);
  const index = await readFile(join(store, 'index.json')).then((b) => b.length, () => 0);
  console.log(`cache ${mb(await folderBytes(cache))}, store ${mb(await folderBytes(store))}, index.json ${kb(index)}, ${await shardSizes(store)}`);
  console.log(`agent pick over HTTP: ${kb(server.requests.reduce((sum, r) => sum + r.bytes, 0))} in ${server.requests.length} requests (${server.requests.map((r) => r.key).join(' ')}); pick exit ${pick.exitCode}`);
  if (naive !== undefined) {
    console.log(`naive loop (curl + dpkg-deb -x + the same compile) on ${naive.kernels} kernels: ${naive.perKernelSeconds.toFixed(1)} s per kernel`);
    console.log(`  kbuild cold ${(cold.ms / 1000 / n).toFixed(1)} s per kernel: ${((naive.perKernelSeconds * n * 1000) / cold.ms).toFixed(2)}x the naive loop's speed (target 3x)`);
    console.log(`  kbuild warm, nothing changed ${(unchanged.ms / 1000 / n).toFixed(2)} s per kernel: ${((naive.perKernelSeconds * n * 1000) / unchanged.ms).toFixed(1)}x (target 10x)`);
    console.log(`  kbuild warm, probe source changed ${(warm.ms / 1000 / n).toFixed(1)} s per kernel: ${((naive.perKernelSeconds * n * 1000) / warm.ms).toFixed(2)}x`);
  }
} finally {
  await execa('redis-cli', ['--scan', '--pattern', `*${queue}*`]).then(async (r) => {
    const keys = r.stdout.split('\n').filter(Boolean);
    if (keys.length > 0) await execa('redis-cli', ['del', ...keys]);
  }).catch(() => undefined);
  if (process.env['FLEET_KEEP'] === undefined) await rm(work, { recursive: true, force: true });
}
