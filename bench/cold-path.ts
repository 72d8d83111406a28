// Cold per-kernel cost of kbuild against the naive loop, in one run on this
// machine (the machine is shared: only figures from the same run compare).
//   npm run bench:cold-path [-- 6.1.0-50-amd64 6.1.0-50-cloud-amd64 ...]
// kbuild: `kbuild build --no-verify` of the execve probe (per-kernel objects
// only) for the given Debian kernels, with an EMPTY cache folder: index
// downloads, resolution, package downloads, extraction and compiles all
// count. The naive loop, per kernel: curl the same two header .debs kbuild
// resolved, `dpkg-deb -x` both, and the same clang -> opt -> llc compile.
// Prints wall time per kernel for both, the ratio, and kbuild's peak RSS.
import { execa } from 'execa';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Arch } from '../src/kernel/identity.js';
import { naiveKernel } from './fleet/naive.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'kbuild.js');
const DEFAULT_KERNELS = ['6.1.0-50-amd64', '6.1.0-50-cloud-amd64', '6.1.0-50-arm64', '6.12.117+deb13-amd64', '6.12.117+deb13-cloud-amd64'];
const releases = process.argv.slice(2).length > 0 ? process.argv.slice(2) : DEFAULT_KERNELS;
const archOf = (release: string): Arch => (/arm64/.test(release) ? 'arm64' : 'x86_64');


async function kbuildCold(work: string): Promise<{ ms: number; maxRssKb: number; cache: string }> {
  const cache = join(work, 'cache');
  const kernels = [
    'probes:',
    '  - { name: execve, source: probes/execve/execve.bpf.c, builds: [non-core] }',
    'kernels:',
    ...releases.map((r) => `  - { distro: debian, release: "${r}", arch: ${archOf(r)} }`),
  ].join('\n');
  await writeFile(join(work, 'kernels.yaml'), `${kernels}\n`);
  const started = performance.now();
  const result = await execa('/usr/bin/time', ['-f', 'maxrss=%M', 'node', CLI, 'build', '--kernels', 'kernels.yaml', '--store', join(work, 'store'), '--no-verify'], {
    cwd: work,
    env: { KBUILD_CACHE_DIR: cache },
    reject: false,
  });
  const ms = performance.now() - started;
  if (result.exitCode !== 0) throw new Error(`kbuild build exited ${result.exitCode}: ${result.stderr}`);
  const maxRssKb = Number(/maxrss=(\d+)/.exec(result.stderr)?.[1] ?? NaN);
  return { ms, maxRssKb, cache };
}

const work = await mkdtemp(join(tmpdir(), 'kbuild-bench-cold-'));
try {
  await cp(join(ROOT, 'probes'), join(work, 'probes'), { recursive: true });
  const kb = await kbuildCold(work);
  const naive: number[] = [];
  for (const release of releases) naive.push(await naiveKernel({ release, arch: archOf(release) }, kb.cache, join(work, 'naive'), join(work, 'probes', 'execve')));
  const naiveMs = naive.reduce((a, b) => a + b, 0);
  const n = releases.length;
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  console.log(`kernels (${n}): ${releases.join(', ')}`);
  console.log(`kbuild, cold cache:  ${s(kb.ms)} total, ${s(kb.ms / n)} per kernel, peak RSS ${(kb.maxRssKb / 1024).toFixed(0)} MiB`);
  console.log(`naive loop:          ${s(naiveMs)} total, ${s(naiveMs / n)} per kernel (${naive.map(s).join(', ')})`);
  console.log(`ratio (naive / kbuild): ${(naiveMs / kb.ms).toFixed(2)}x`);
} finally {
  await rm(work, { recursive: true, force: true });
}
