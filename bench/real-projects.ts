/**
 * Build time of the real-project corpus (test/real-projects/corpus-probes.ts)
 * per project and kernel, cold (empty store) and warm (the same store again,
 * so content-addressed jobs are skipped), from `kbuild build --json`'s
 * jobs[].durationMs, and the bytes of the sources bundle(s) each project
 * sends to the builds (the store's bundles/*.tar). Downloads (headers,
 * images, source packages) are cached under the kbuild cache root and are
 * not part of "cold": run the corpus test once first for steady figures.
 * Run: npm run bench:real-projects
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kbuild } from '../test/helpers/cli.js';
import { BPFTUNE, CORPUS_RELEASES, layOut, libbpfProject, OPENSNITCH, PWRU, SURICATA, SYSTEMD, XDP_TOOLS, type CorpusProject } from '../test/real-projects/corpus-probes.js';

interface Job {
  readonly job: string;
  readonly kind: string;
  readonly status: string;
  readonly durationMs?: number;
}

interface Run {
  readonly wallMs: number;
  readonly jobs: readonly Job[];
}

const PROJECTS: Record<string, CorpusProject> = {
  suricata: SURICATA,
  'xdp-tools': XDP_TOOLS,
  systemd: SYSTEMD,
  opensnitch: OPENSNITCH,
  bpftune: BPFTUNE,
  pwru: PWRU,
  'libbpf 1.5.0': libbpfProject('{ debian: "1.5.0" }'),
};

async function run(kernels: string, out: string): Promise<Run> {
  const started = performance.now();
  const result = await kbuild(['build', '--kernels', kernels, '--out', out, '--json']);
  if (result.exitCode !== 0) throw new Error(`kbuild build ${kernels} exited ${result.exitCode}:\n${result.stderr.slice(-4000)}`);
  const summary = JSON.parse(result.stdout) as { jobs: Job[] };
  return { wallMs: performance.now() - started, jobs: summary.jobs };
}

/** Seconds of the jobs that ran for a kernel (non-CO-RE: its objects; CO-RE: its arch's objects and its external BTF). */
function secondsFor(jobs: readonly Job[], column: string): number {
  const arch = column.includes('arm64') ? 'arm64' : 'x86_64';
  const ms = jobs
    .filter((j) => j.job.includes(` ${column} `) || (j.kind === 'core' && j.job.endsWith(`CO-RE ${arch}`) && column === CORPUS_RELEASES[arch === 'arm64' ? 2 : 0]))
    .reduce((sum, j) => sum + (j.durationMs ?? 0), 0);
  return ms / 1000;
}

async function bundleBytes(out: string): Promise<number> {
  const dir = join(out, 'bundles');
  const names = (await readdir(dir)).filter((n) => n.endsWith('.tar'));
  const sizes = await Promise.all(names.map(async (n) => (await stat(join(dir, n))).size));
  return sizes.reduce((a, b) => a + b, 0);
}

const work = await mkdtemp(join(tmpdir(), 'kbuild-bench-real-'));
try {
  const rows: string[][] = [];
  for (const [label, project] of Object.entries(PROJECTS)) {
    const dir = await mkdtemp(join(work, 'p-'));
    const kernels = await layOut(dir, project);
    const out = join(dir, 'out');
    const cold = await run(kernels, out);
    const warm = await run(kernels, out);
    const built = cold.jobs.filter((j) => j.status === 'built').length;
    const skipped = warm.jobs.filter((j) => j.status === 'skipped').length;
    for (const release of CORPUS_RELEASES) {
      rows.push([label, release, secondsFor(cold.jobs, release).toFixed(1), secondsFor(warm.jobs, release).toFixed(1), '', '']);
    }
    rows.push([label, 'all (wall)', (cold.wallMs / 1000).toFixed(1), (warm.wallMs / 1000).toFixed(1), `${built} built / ${skipped} skipped`, String(await bundleBytes(out))]);
  }
  const header = ['project', 'kernel', 'cold s', 'warm s', 'jobs (cold built / warm skipped)', 'bundle bytes'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log('\nPer kernel: the sum of job durations (non-CO-RE objects of that kernel; CO-RE objects counted on the kernel whose BTF makes vmlinux.h; external BTF jobs on their kernel). Jobs run in parallel, so the sum exceeds the wall time.');
} finally {
  await rm(work, { recursive: true, force: true });
}
