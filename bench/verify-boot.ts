// Seconds per verified kernel per arch: one QEMU (TCG) boot of a real Debian
// kernel that loads the execve probe in all three modes, attaches it and
// triggers 5 execve per mode. The baseline, measured in the same run, is a
// boot of the same kernel with an empty manifest (boot, guest loader start,
// power off), so the figures split the time into booting and verifying.
//   npm run bench:verify            (RUNS=5 npm run bench:verify for more runs)
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../src/cache/cache-dir.js';
import type { Arch, KernelIdentity } from '../src/kernel/identity.js';
import type { VerifyMode } from '@kbuild/loader';
import type { VerifyCase } from '../src/verify/types.js';
import { verifyKernel } from '../src/verify/verify-kernel.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'kbuild.js');
const RUNS = Number(process.env['RUNS'] ?? 3);
const KERNELS: Record<Arch, KernelIdentity> = {
  x86_64: { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' },
  arm64: { distro: 'debian', release: '6.1.0-50-arm64', arch: 'arm64' },
};
const MODES: readonly VerifyMode[] = ['non-core', 'core-kernel-btf', 'core-external-btf'];

async function casesFor(out: string, kernel: KernelIdentity): Promise<VerifyCase[]> {
  return Promise.all(
    MODES.map(async (mode) => {
      const artifactPath = mode === 'non-core' ? `execve/${kernel.arch}/execve_debian_${kernel.release}.o` : `core/${kernel.arch}/execve.o`;
      const objectFile = join(out, artifactPath);
      const objectSha256 = createHash('sha256').update(await readFile(objectFile)).digest('hex');
      return { probe: 'execve', mode, objectFile, objectSha256, artifactPath, check: { event: { trigger: 'execve', count: 5, counterMap: 'execve_count' } } } as const;
    }),
  );
}

async function boot(kernel: KernelIdentity, cases: readonly VerifyCase[]): Promise<number> {
  const started = performance.now();
  const result = await verifyKernel({ kernel, cases, timeoutMs: 300_000, cacheDir: cacheRoot() });
  const seconds = (performance.now() - started) / 1000;
  const bad = result.results.filter((r) => r.result !== 'ok');
  if (result.outcome !== 'completed' || bad.length > 0) {
    throw new Error(`${kernel.release}: ${result.outcome}; ${bad.map((r) => `${r.case.mode}: ${r.detail ?? ''}`).join('; ')}\n${result.consoleTail ?? ''}`);
  }
  return seconds;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

const work = await mkdtemp(join(tmpdir(), 'kbuild-bench-verify-'));
try {
  await cp(join(ROOT, 'probes'), join(work, 'probes'), { recursive: true });
  const kernelsYaml = `probes:\n  - { name: execve, source: probes/execve/execve.bpf.c }\ncore:\n  btfFrom:\n${(['x86_64', 'arm64'] as const)
    .map((a) => `    ${a}: { distro: debian, release: ${KERNELS[a].release} }\n`)
    .join('')}kernels:\n${Object.values(KERNELS).map((k) => `  - { distro: debian, release: ${k.release}, arch: ${k.arch} }\n`).join('')}`;
  await writeFile(join(work, 'kernels.yaml'), kernelsYaml);
  await execa('node', [CLI, 'build', '-k', join(work, 'kernels.yaml'), '-o', join(work, 'out'), '--json', '--no-verify']);

  console.log(`verify boot bench: ${RUNS} runs per figure, QEMU TCG, 1 vCPU; cases = execve probe in ${MODES.length} modes, 5 execve each`);
  for (const arch of ['x86_64', 'arm64'] as const) {
    const kernel = KERNELS[arch];
    const cases = await casesFor(join(work, 'out'), kernel);
    await boot(kernel, cases); // warms the image, guest loader and minimized-BTF caches
    const empty: number[] = [];
    const full: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      empty.push(await boot(kernel, []));
      full.push(await boot(kernel, cases));
    }
    const [e, f] = [mean(empty), mean(full)];
    console.log(
      `${arch} (${kernel.release}): verified kernel ${f.toFixed(2)} s (${MODES.length} cases); empty-manifest boot ${e.toFixed(2)} s; ` +
        `loading+triggering ${(f - e).toFixed(2)} s = ${((100 * (f - e)) / f).toFixed(0)}% of the verified boot, ${((f - e) / MODES.length).toFixed(2)} s per case; ` +
        `ratio verified/empty ${(f / e).toFixed(2)}`,
    );
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
