import assert from 'node:assert/strict';
import { execa } from 'execa';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, REPO_ROOT } from '../helpers/cli.js';
import { slowToolchain } from '../helpers/farm.js';
import { ownRedis, type OwnRedis } from '../helpers/own-redis.js';

const ONE_KERNEL = `probes:\n  - { name: execve, source: probes/execve/execve.bpf.c }\nkernels:\n  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64 }\n`;

describe('submit --wait across a Redis restart that lost everything', { timeout: 5 * 60_000 }, () => {
  let work: string;
  let redis: OwnRedis;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-redis-restart-'));
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), ONE_KERNEL);
    redis = await ownRedis();
  });
  after(async () => {
    await redis?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('prints one line when Redis goes and one when it is back, then exits 5 saying the submission is gone', async () => {
    const child = execa('node', [CLI, 'submit', '--kernels', join(work, 'kernels.yaml'), '--store', join(work, 'store'), '--redis', redis.url, '--queue', 'restart', '--wait', '--no-verify'], {
      cwd: work,
      reject: false,
    });
    let stderr = '';
    const pending = new Promise<void>((resolve) => child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/index pending/.test(stderr)) resolve();
    }));
    await pending;
    await redis.stop();
    await new Promise((r) => setTimeout(r, 3000)); // ioredis retries many times meanwhile
    await redis.start();
    const result = await child;
    assert.equal(result.exitCode, 5, String(result.stderr));
    const err = String(result.stderr);
    assert.equal(err.match(/lost Redis at/g)?.length, 1, err);
    assert.equal(err.match(/Redis at \S+ is back/g)?.length, 1, err);
    assert.doesNotMatch(err, /ECONNREFUSED|\n\s+at /, 'no ioredis stack traces');
    assert.match(err, /is gone from Redis .*resubmit/);
  });

  it('a worker prints one line when Redis goes and one when it is back, and still stops cleanly', async () => {
    const child = execa('node', [CLI, 'worker', '--redis', redis.url, '--queue', 'restart-worker'], { cwd: work, reject: false, forceKillAfterDelay: false });
    let stderr = '';
    await new Promise<void>((resolve) => child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/kbuild worker \S+: queue/.test(stderr)) resolve();
    }));
    await redis.stop();
    await new Promise((r) => setTimeout(r, 3000));
    await redis.start();
    await new Promise<void>((resolve) => {
      const check = (): void => (/is back/.test(stderr) ? resolve() : void setTimeout(check, 100));
      check();
    });
    child.kill('SIGTERM');
    const result = await child;
    assert.equal(result.exitCode, 0, stderr);
    assert.equal(stderr.match(/lost Redis at/g)?.length, 1, stderr);
    assert.equal(stderr.match(/Redis at \S+ is back/g)?.length, 1, stderr);
    assert.doesNotMatch(stderr, /ECONNREFUSED|\n\s+at |"level":50/, 'no stack traces or error logs per reconnect');
  });

  it('with persistence, --wait rides out the restart and exits 0 once the worker (also reconnected) published', async () => {
    const aof = join(work, 'aof');
    await mkdir(aof);
    const durable = await ownRedis({ aofDir: aof });
    try {
      const worker = execa('node', [CLI, 'worker', '--redis', durable.url, '--queue', 'durable', '--concurrency', '1'], {
        cwd: work,
        reject: false,
        env: { PATH: await slowToolchain(join(work, 'slow'), 3) },
      });
      let workerErr = '';
      await new Promise<void>((resolve) => worker.stderr?.on('data', (chunk: Buffer) => {
        workerErr += chunk.toString();
        if (/kbuild worker \S+: queue/.test(workerErr)) resolve();
      }));
      const submit = execa('node', [CLI, 'submit', '--kernels', join(work, 'kernels.yaml'), '--store', join(work, 'durable-store'), '--redis', durable.url, '--queue', 'durable', '--wait', '--no-verify'], { cwd: work, reject: false });
      await new Promise<void>((resolve) => {
        const check = (): void => (/compiling/.test(workerErr) ? resolve() : void setTimeout(check, 100));
        check();
      });
      await durable.stop();
      await new Promise((r) => setTimeout(r, 2000));
      await durable.start();
      const result = await submit;
      worker.kill('SIGTERM');
      await worker;
      const err = String(result.stderr);
      assert.equal(result.exitCode, 0, `${err}\nworker:\n${workerErr}`);
      assert.equal(err.match(/lost Redis at/g)?.length, 1, err);
      assert.equal(err.match(/is back/g)?.length, 1, err);
      assert.match(String(result.stdout), /index: /);
    } finally {
      await durable.stop();
    }
  });
});
