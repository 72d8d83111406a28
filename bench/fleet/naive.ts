import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/exec/exec.js';
import { buildConfig, renderKbuildConfig } from '../../src/job/build-config.js';
import { compileNonCore } from '../../src/job/compile.js';
import { LocalExecutor } from '../../src/executor/local.js';
import { versionCodeOf } from '../../src/kernel/version-header.js';
import type { CrawledKernel } from './sample.js';

/**
 * The baseline a user would script without kbuild: for each kernel, curl its two
 * header packages, `dpkg-deb -x` both, and run the same compile kbuild runs (the
 * same clang/opt/llc steps, compileNonCore), so the two differ only in fetching and extracting.
 * The package URLs come from the resolutions kbuild's own run wrote in `cache`
 * (a naive script would have them from the Packages index): looking them up is
 * not timed.
 */
export interface NaiveResult {
  readonly kernels: number;
  readonly perKernelSeconds: number;
}

interface Ref {
  readonly name: string;
  readonly filename: string;
  readonly mirror: string;
}

async function headerRefs(cache: string, kernel: Pick<CrawledKernel, 'release' | 'arch'>): Promise<Ref[]> {
  const resolved = join(cache, 'debian', 'resolved');
  const debArch = kernel.arch === 'arm64' ? 'arm64' : 'amd64';
  for (const mirror of await readdir(resolved).catch(() => [])) {
    const file = join(resolved, mirror, debArch, `${kernel.release}.headers.json`);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const r = JSON.parse(text) as { headers: Ref; common: Ref };
    return [r.headers, r.common];
  }
  throw new Error(`no header resolution for ${kernel.release} under ${resolved}: run the farm first`);
}

/** One kernel the naive way; milliseconds from the first download to the object. */
export async function naiveKernel(kernel: Pick<CrawledKernel, 'release' | 'arch'>, cache: string, work: string, probeDir: string): Promise<number> {
  const refs = await headerRefs(cache, kernel);
  const dir = join(work, kernel.release);
  await mkdir(join(dir, 'root'), { recursive: true });
  const t0 = performance.now();
  for (const ref of refs) {
    const deb = join(dir, `${ref.name}.deb`);
    await run('curl', ['-fsSL', '-o', deb, `${ref.mirror.replace(/\/$/, '')}/${ref.filename}`], { timeoutMs: 600_000 });
    await run('dpkg-deb', ['-x', deb, join(dir, 'root')], { timeoutMs: 600_000 });
  }
  const [flavourRef, commonRef] = refs;
  const flavour = join(dir, 'root/usr/src', flavourRef?.name ?? '');
  const common = join(dir, 'root/usr/src', commonRef?.name ?? '');
  const versionCode = (await versionCodeOf(flavour)) ?? 0;
  const configHeader = await renderKbuildConfig(buildConfig(kernel.release, versionCode, []));
  await compileNonCore(new LocalExecutor(), { probeDir, entry: 'execve.bpf.c', arch: kernel.arch, headers: { flavour, common }, configHeader, workDir: join(dir, 'work'), output: join(dir, 'execve.o') });
  const ms = performance.now() - t0;
  await rm(dir, { recursive: true, force: true });
  return ms;
}

export async function naiveLoop(kernels: readonly CrawledKernel[], cache: string, work: string, probeDir: string): Promise<NaiveResult> {
  let total = 0;
  for (const kernel of kernels) total += await naiveKernel(kernel, cache, work, probeDir);
  return { kernels: kernels.length, perKernelSeconds: total / 1000 / Math.max(1, kernels.length) };
}
