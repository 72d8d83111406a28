/**
 * Sizes of external BTF for the shipped kernels.yaml: each kernel's full BTF
 * (raw, and xz -9 as BTFHub ships it) against the minimized BTF of every
 * probe's CO-RE object for that kernel, and how much content-addressed
 * storage saves when kernels share a minimized BTF.
 * Run: npm run bench:btf [-- other-kernels.yaml]
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { builderFor } from '../builders/registry.js';
import type { DistroBuilder } from '../builders/types.js';
import { imageBtfEntry } from '../src/btf/image-btf.js';
import { obtainFullBtf } from '../src/btf/full-btf.js';
import { minimizeBtf } from '../src/btf/minimize.js';
import { cacheRoot } from '../src/cache/cache-dir.js';
import { loadKernelsFile } from '../src/config/load-kernels-file.js';
import { LocalExecutor } from '../src/executor/local.js';
import { compileCore } from '../src/job/compile.js';
import { planBuild, publishBundles } from '../src/job/plan.js';
import { prepareProject } from '../src/job/project.js';
import { FsStore } from '../src/store/fs-store.js';
import type { Arch } from '../src/kernel/identity.js';

const file = process.argv[2] ?? 'kernels.yaml';
const loaded = await loadKernelsFile(file);
const plan = await planBuild(loaded);
const dir = await mkdtemp(join(tmpdir(), 'kbuild-bench-btf-'));
const cacheDir = cacheRoot();
// The sources bundles go to a scratch store, as `kbuild build` puts them in its own.
const store = new FsStore(join(dir, 'store'));
await publishBundles(plan, store, cacheDir);
const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

function builder(distro: string): DistroBuilder {
  const found = builderFor(distro);
  if (found === undefined) throw new Error(`no builder for ${distro}`);
  return found;
}

interface Row {
  readonly kernel: string;
  readonly raw: number;
  readonly xz: number;
  readonly min: number;
  readonly minSha: string;
}

try {
  // Every probe's CO-RE object per arch, compiled as the farm compiles it.
  const objects = new Map<Arch, string[]>();
  for (const job of plan.jobs) {
    if (job.kind !== 'core') continue;
    const image = await builder(job.btfKernel.distro).fetchImage(job.btfKernel, { cacheDir });
    const work = join(dir, `${job.probe.name}-${job.arch}`);
    const probeDir = await prepareProject(job.probe, join(work, 'probe'), { cacheDir, store });
    const output = join(work, 'core.o');
    await compileCore(new LocalExecutor(), {
      probeDir,
      sources: job.probe.sources,
      arch: job.arch,
      workDir: join(work, 'w'),
      output,
      vmlinuxDir: await imageBtfEntry(cacheDir, image, job.arch),
    });
    objects.set(job.arch, [...(objects.get(job.arch) ?? []), output]);
  }

  const rows: Row[] = [];
  for (const kernel of loaded.config.kernels) {
    const identity = { distro: kernel.distro, release: kernel.release, arch: kernel.arch };
    const full = await obtainFullBtf(identity, { builder: builder(kernel.distro), context: { cacheDir }, sources: ['image', 'dbg'] });
    const raw = await readFile(full.path);
    // The xz tool, as BTFHub compresses (@napi-rs/lzma's encoder barely compresses).
    const compressed = (await execa('xz', ['-9', '--stdout', '--threads=1', full.path], { encoding: 'buffer' })).stdout;
    const out = join(dir, `${kernel.release}-${kernel.arch}.min.btf`);
    await minimizeBtf(full.path, objects.get(kernel.arch) ?? [], out);
    const min = await readFile(out);
    rows.push({
      kernel: `${kernel.distro} ${kernel.release} ${kernel.arch}`,
      raw: raw.length,
      xz: compressed.length,
      min: min.length,
      minSha: createHash('sha256').update(min).digest('hex'),
    });
  }

  const width = Math.max(6, ...rows.map((r) => r.kernel.length));
  const line = (k: string, raw: string, x: string, min: string, ratio: string): string =>
    `${k.padEnd(width)}  ${raw.padStart(11)}  ${x.padStart(11)}  ${min.padStart(10)}  ${ratio.padStart(8)}`;
  console.log(line('kernel', 'full raw', 'full xz', 'minimized', 'xz/min'));
  for (const r of rows) console.log(line(r.kernel, kib(r.raw), kib(r.xz), `${r.min} B`, `${Math.round(r.xz / r.min)}x`));
  const sum = (f: (r: Row) => number): number => rows.reduce((s, r) => s + f(r), 0);
  const distinct = new Map(rows.map((r) => [r.minSha, r.min]));
  const stored = [...distinct.values()].reduce((s, n) => s + n, 0);
  console.log(line('total', kib(sum((r) => r.raw)), kib(sum((r) => r.xz)), `${sum((r) => r.min)} B`, `${Math.round(sum((r) => r.xz) / sum((r) => r.min))}x`));
  console.log(`kernels: ${rows.length}; distinct minimized blobs: ${distinct.size}; dedup factor ${(rows.length / distinct.size).toFixed(2)}x`);
  console.log(`stored minimized, deduplicated: ${stored} B (full BTF xz total is ${Math.round(sum((r) => r.xz) / stored)}x that)`);
  console.log(`CO-RE objects: ${[...objects.entries()].map(([arch, list]) => `${arch} ${list.length}`).join(', ')}; kernels file ${resolve(file)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
