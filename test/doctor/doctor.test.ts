import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CheckResult } from '../../src/doctor/types.js';
import { CLI, REPO_ROOT } from '../helpers/cli.js';
import { REDIS_URL } from '../helpers/farm.js';

interface Report {
  ok: boolean;
  for: string[];
  checks: CheckResult[];
}

/** `kbuild doctor` in its own process; `env` replaces PATH etc. (node itself is called by absolute path). */
async function doctor(args: string[], env: Record<string, string> = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa(process.execPath, [CLI, 'doctor', ...args], { cwd: REPO_ROOT, env, reject: false, timeout: 5 * 60 * 1000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

const byId = (report: Report, id: string): CheckResult => {
  const found = report.checks.find((c) => c.id === id);
  assert.ok(found, `check ${id} in ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
};

describe('kbuild doctor on this machine', { timeout: 10 * 60 * 1000 }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-doctor-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('finds everything a build, a verification and a BPF load need, with versions (exit 0)', async () => {
    const r = await doctor(['--for', 'build', 'verify', 'load', '--json'], { KBUILD_REDIS_URL: '' });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.ok, true);
    assert.deepEqual(report.for, ['build', 'verify', 'load']);
    // The versions are the ones the tools report themselves.
    const clangBanner = String((await execa('clang', ['--version'])).stdout);
    assert.equal(byId(report, 'clang').version, /clang version (\d+\.\d+\.\d+)/.exec(clangBanner)?.[1]);
    const paholeBanner = String((await execa('pahole', ['--version'])).stdout).trim();
    assert.equal(`v${byId(report, 'pahole').version}`, paholeBanner);
    for (const id of ['clang', 'llc', 'opt', 'llvm-strip', 'bpftool', 'pahole', 'qemu-system-x86_64', 'qemu-system-aarch64', 'aarch64-linux-gnu-gcc']) {
      const c = byId(report, id);
      assert.equal(c.status, 'ok', `${id}: ${c.detail}`);
      assert.match(c.version ?? '', /^\d+\.\d+/, `${id} has a version`);
    }
    for (const id of ['libbpf-headers', 'debian-mirror', 'bpf-load', 'btf-vmlinux']) assert.equal(byId(report, id).status, 'ok', `${id}: ${byId(report, id).detail}`);
    assert.equal(byId(report, 'bpf-load').required, true, '--for load requires the BPF load');
    assert.equal(byId(report, 'qemu-system-x86_64').required, true, '--for verify requires QEMU');
    assert.equal(byId(report, 'docker').required, false);
    assert.equal(byId(report, 'redis').status, 'skipped');
  });

  it('without clang on PATH: exit 1, names clang and the package to install', async () => {
    // Every program of PATH but clang, through symlinks.
    const bin = join(work, 'no-clang-bin');
    await mkdir(bin);
    const seen = new Set<string>();
    for (const dir of (process.env['PATH'] ?? '').split(':').filter((d) => d !== '')) {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (name === 'clang' || seen.has(name)) continue;
        seen.add(name);
        await symlink(join(dir, name), join(bin, name));
      }
    }
    const r = await doctor([], { PATH: bin });
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^missing clang: clang is not on PATH \(fix: apt-get install clang llvm\)$/m);
    assert.match(r.stdout, /^ok llc: /m, 'the other tools are still found');
    assert.match(r.stdout, /1 required check failed/);
  });

  it('reports an unreachable Redis as missing when the farm is required, as a warning otherwise', async () => {
    const farm = await doctor(['--for', 'farm', '--redis', 'redis://127.0.0.1:1', '--json']);
    assert.equal(farm.exitCode, 1, farm.stdout + farm.stderr);
    const redis = byId(JSON.parse(farm.stdout) as Report, 'redis');
    assert.equal(redis.status, 'missing');
    assert.match(redis.detail, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
    assert.match(redis.fix ?? '', /--redis/);

    const build = await doctor(['--redis', 'redis://127.0.0.1:1', '--json']);
    assert.equal(build.exitCode, 0, build.stdout);
    assert.equal(byId(JSON.parse(build.stdout) as Report, 'redis').status, 'warn');

    const live = await doctor(['--for', 'farm', '--redis', REDIS_URL, '--json']);
    const ok = byId(JSON.parse(live.stdout) as Report, 'redis');
    assert.equal(ok.status, 'ok', ok.detail);
    assert.match(ok.version ?? '', /^\d+\.\d+/);
  });

  it('checks that a folder store is writable', async () => {
    const good = await doctor(['--store', join(work, 'store', 'deeper'), '--json']);
    assert.equal(byId(JSON.parse(good.stdout) as Report, 'store').status, 'ok');
    const file = join(work, 'a-file');
    await writeFile(file, '');
    const notFolder = await doctor(['--store', file, '--json']);
    assert.equal(notFolder.exitCode, 1);
    assert.match(byId(JSON.parse(notFolder.stdout) as Report, 'store').detail, /is not a folder/);
    // sysfs takes no new files, even from root.
    const readOnly = await doctor(['--store', '/sys/kernel', '--json']);
    assert.equal(readOnly.exitCode, 1);
    const store = byId(JSON.parse(readOnly.stdout) as Report, 'store');
    assert.equal(store.status, 'missing');
    assert.match(store.detail, /cannot write in \/sys\/kernel/);
  });

  it('requires Docker when the kernels file asks for the docker executor', async () => {
    const kernels = join(work, 'kernels.yaml');
    await writeFile(kernels, 'probes:\n  - { name: execve, source: probes/execve/execve.bpf.c }\nexecutors: { debian: docker }\nkernels:\n  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64 }\n');
    const r = await doctor(['--kernels', kernels, '--json'], { DOCKER_HOST: `unix://${join(work, 'no-docker.sock')}` });
    const docker = byId(JSON.parse(r.stdout) as Report, 'docker');
    assert.equal(docker.required, true);
    assert.equal(docker.status, 'missing');
    assert.match(docker.detail, /no-docker\.sock is unavailable/);
    assert.equal(r.exitCode, 1);
  });

  it('rejects bad flags with exit 2', async () => {
    assert.equal((await doctor(['--for', 'everything'])).exitCode, 2);
    const badUrl = await doctor(['--redis', 'http://127.0.0.1:6379']);
    assert.equal(badUrl.exitCode, 2);
    assert.match(badUrl.stderr, /must start with redis:\/\//);
  });
});

