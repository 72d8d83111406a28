// Prints what the Docker executor costs over the local one on this machine:
// per-step container overhead, one kernel's build (headers cached), and an
// up-to-date `kbuild images build`. Needs a running engine and the Debian image:
//   bash scripts/dockerd.sh start && node bin/kbuild.js images build --distro debian
//   node --import tsx bench/docker-overhead.ts
import { execa } from 'execa';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerExecutor } from '../src/executor/docker.js';
import { LocalExecutor } from '../src/executor/local.js';
import type { BuildStep, Executor } from '../src/executor/types.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'kbuild.js');
const RUNS = 10;

async function perStep(executor: Executor, dir: string): Promise<number> {
  const step: BuildStep = { argv: ['clang', '--version'], cwd: dir, readOnly: [], writable: dir };
  await executor.run(step);
  const started = performance.now();
  for (let i = 0; i < RUNS; i += 1) await executor.run(step);
  return (performance.now() - started) / RUNS;
}

async function timed(args: string[]): Promise<number> {
  const started = performance.now();
  await execa('node', [CLI, ...args]);
  return performance.now() - started;
}

const work = await mkdtemp(join(tmpdir(), 'kbuild-bench-docker-'));
try {
  await mkdir(join(work, 'scratch'));
  const docker = await DockerExecutor.open('debian');
  const local = await perStep(new LocalExecutor(), join(work, 'scratch'));
  const container = await perStep(docker, join(work, 'scratch'));
  console.log(`per step (clang --version, mean of ${RUNS}): local ${local.toFixed(0)} ms, docker ${container.toFixed(0)} ms`);

  await cp(join(ROOT, 'probes'), join(work, 'probes'), { recursive: true });
  await writeFile(join(work, 'kernels.yaml'), 'probes:\n  - { name: execve, source: probes/execve/execve.bpf.c }\nkernels:\n  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64 }\n');
  const build = (executor: string) => timed(['build', '-k', join(work, 'kernels.yaml'), '-o', join(work, `out-${executor}`), '--executor', executor, '--json', '--no-verify']);
  await build('local'); // warms the header and vmlinux.h caches
  await rm(join(work, 'out-local'), { recursive: true });
  const localBuild = await build('local');
  const dockerBuild = await build('docker');
  console.log(`one kernel + CO-RE (2 jobs, headers cached, CLI wall time): local ${(localBuild / 1000).toFixed(2)} s, docker ${(dockerBuild / 1000).toFixed(2)} s`);

  const upToDate = await timed(['images', 'build', '--distro', 'debian']);
  console.log(`kbuild images build, image up to date: ${(upToDate / 1000).toFixed(2)} s`);
} finally {
  await rm(work, { recursive: true, force: true });
}
