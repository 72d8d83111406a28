import assert from 'node:assert/strict';
import { execa } from 'execa';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Docker from 'dockerode';
import pino from 'pino';
import { Writable } from 'node:stream';
import { findMirror } from '../../builders/debian/mirror.js';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { DockerUnavailableError, ImageError } from '../../src/errors.js';
import { ExecError } from '../../src/exec/exec.js';
import { connectDocker } from '../../src/executor/docker-engine.js';
import { BUILD_UID, DockerExecutor } from '../../src/executor/docker.js';
import type { BuildStep } from '../../src/executor/types.js';
import { buildBuilderImage } from '../../src/images/builder-image.js';
import { useDockerd } from '../helpers/dockerd.js';

/** Containers this test process made (the executor labels them with its pid), running or not. */
async function ourContainers(docker: Docker): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`kbuild.pid=${process.pid}`] } });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 10_000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

describe('Docker executor against a real dockerd (slow)', { timeout: 20 * 60_000 }, async () => {
  let dockerd: Awaited<ReturnType<typeof useDockerd>>;
  let docker: Docker;
  let executor: DockerExecutor;
  let work: string;
  const step = (argv: string[], extra: Partial<BuildStep> = {}): BuildStep => ({
    argv, cwd: join(work, 'out'), readOnly: [join(work, 'in')], writable: join(work, 'out'), ...extra,
  });

  before(async () => {
    dockerd = await useDockerd();
    docker = await connectDocker();
    await buildBuilderImage(docker, 'debian', cacheRoot(), () => undefined);
    executor = await DockerExecutor.open('debian', { docker });
    work = await mkdtemp(join(tmpdir(), 'kbuild-docker-'));
    await mkdir(join(work, 'in'));
    await mkdir(join(work, 'out'));
    await writeFile(join(work, 'in', 'input.txt'), 'from the host\n');
  });
  after(async () => {
    await executor?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
    await dockerd?.stop();
  });

  it('runs as a non-root user, reads inputs, writes only the output folder', async () => {
    const id = await executor.run(step(['id', '-u']));
    assert.equal(id.stdout.trim(), String(process.getuid?.() === 0 ? BUILD_UID : process.getuid?.()));
    const copy = await executor.run(step(['cp', join(work, 'in', 'input.txt'), join(work, 'out', 'copy.txt')]));
    assert.equal(copy.stderr, '');
    assert.equal(await readFile(join(work, 'out', 'copy.txt'), 'utf8'), 'from the host\n');
    await assert.rejects(executor.run(step(['touch', join(work, 'in', 'new')])), (err: unknown) => {
      assert.ok(err instanceof ExecError);
      assert.match(err.stderr, /Read-only file system/);
      return true;
    });
    await assert.rejects(executor.run(step(['touch', '/etc/new'])), /exited with 1/);
    await assert.rejects(stat(join(work, 'in', 'new')));
  });

  it('a build that tries to reach the network fails (the host reaches it)', async () => {
    const host = new URL((await findMirror()).url).hostname;
    const { address } = await lookup(host, { family: 4 });
    assert.ok(await canConnect(address, 80), `the host itself reaches ${host} (${address}):80`);
    const interfaces = await executor.run(step(['ls', '/sys/class/net']));
    assert.deepEqual(interfaces.stdout.trim().split(/\s+/), ['lo'], 'only loopback inside the container');
    for (const target of [host, address]) {
      await assert.rejects(executor.run(step(['bash', '-c', `exec 3<>/dev/tcp/${target}/80`], { timeoutMs: 60_000 })), (err: unknown) => {
        assert.ok(err instanceof ExecError, String(err));
        assert.equal(err.timedOut, false);
        assert.match(err.stderr, /unreachable|name resolution|Name or service|not known/i);
        return true;
      });
    }
    assert.deepEqual(await ourContainers(docker), []);
  });

  it('a build over its time limit is killed and its container removed', async () => {
    const started = Date.now();
    const running = executor.run(step(['sleep', '600'], { timeoutMs: 3_000 }));
    let seen = false;
    while (!seen && Date.now() - started < 30_000) {
      seen = (await ourContainers(docker)).some((c) => c.State === 'running');
      if (!seen) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(seen, 'the container was listed while it ran');
    await assert.rejects(running, (err: unknown) => {
      assert.ok(err instanceof ExecError);
      assert.equal(err.timedOut, true);
      return true;
    });
    assert.ok(Date.now() - started < 60_000, 'killed long before sleep 600 would end');
    assert.deepEqual(await ourContainers(docker), [], 'no container left, running or stopped');
  });

  it('a stopped worker (aborted signal) kills and removes the container', async () => {
    const interrupt = new AbortController();
    const running = executor.run(step(['sleep', '600']), interrupt.signal);
    while ((await ourContainers(docker)).length === 0) await new Promise((r) => setTimeout(r, 100));
    interrupt.abort();
    await assert.rejects(running, { name: 'AbortError' });
    assert.deepEqual(await ourContainers(docker), []);
  });

  it('runs under memory and pids limits', async () => {
    const read = (v2: string, v1: string) => executor.run(step(['sh', '-c', `cat /sys/fs/cgroup/${v2} 2>/dev/null || cat /sys/fs/cgroup/${v1}`]));
    assert.equal((await read('pids.max', 'pids/pids.max')).stdout.trim(), '256');
    assert.equal((await read('memory.max', 'memory/memory.limit_in_bytes')).stdout.trim(), String(2 * 1024 ** 3));
  });

  it('streams build output into the job\'s log', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
    const jobLog = pino({ level: 'info', base: null }, sink).child({ job: 'execve debian 6.1.0-50-cloud-amd64 x86_64' });
    await executor.withLog(jobLog).run(step(['sh', '-c', 'echo "warning: first" >&2; echo "warning: second" >&2']));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(lines.map((l) => [l['job'], l['msg'], l['tool'], l['line']]), [
      ['execve debian 6.1.0-50-cloud-amd64 x86_64', 'build output', 'sh', 'warning: first'],
      ['execve debian 6.1.0-50-cloud-amd64 x86_64', 'build output', 'sh', 'warning: second'],
    ]);
  });

  it('removes the containers of a worker that died without cleaning up, and only those', async () => {
    const child = execa('true');
    const deadPid = child.pid ?? 0;
    await child;
    const make = async (pid: number) => {
      const c = await docker.createContainer({
        Image: executor.image.id,
        Cmd: ['sleep', '600'],
        Labels: { 'kbuild.executor': 'docker', 'kbuild.host': hostname(), 'kbuild.pid': String(pid) },
        HostConfig: { NetworkMode: 'none' },
      });
      await c.start();
      return c.id;
    };
    const orphan = await make(deadPid);
    const alive = await make(process.pid);
    try {
      await DockerExecutor.open('debian', { docker });
      const left = (await docker.listContainers({ all: true, filters: { label: ['kbuild.executor=docker'] } })).map((c) => c.Id);
      assert.ok(!left.includes(orphan), 'the dead worker\'s container is gone');
      assert.ok(left.includes(alive), 'a live worker\'s container is kept');
    } finally {
      await docker.getContainer(alive).remove({ force: true });
      await docker.getContainer(orphan).remove({ force: true }).catch(() => undefined);
    }
  });

  it('names the image in its toolchain id', async () => {
    const id = await executor.toolchainId();
    assert.match(id, /^Debian clang version 14\.\d+\.\d+ \| Debian LLVM version 14\.\d+\.\d+ \| image kbuild\/builder-debian:[0-9a-f]{16} sha256:[0-9a-f]{12}$/);
  });

  it('says clearly and quickly when no engine answers, or an image is missing', async () => {
    const saved = process.env['DOCKER_HOST'];
    process.env['DOCKER_HOST'] = `unix://${join(work, 'no-such.sock')}`;
    try {
      const started = Date.now();
      await assert.rejects(connectDocker(), (err: unknown) => {
        assert.ok(err instanceof DockerUnavailableError);
        assert.match(err.message, /no-such\.sock is unavailable \(no socket there\)/);
        assert.match(err.suggestions.join('\n'), /scripts\/dockerd\.sh start/);
        return true;
      });
      assert.ok(Date.now() - started < 10_000);
    } finally {
      if (saved === undefined) delete process.env['DOCKER_HOST'];
      else process.env['DOCKER_HOST'] = saved;
    }
    await assert.rejects(DockerExecutor.open('centos', { docker }), (err: unknown) => err instanceof ImageError && /no builder image for distro "centos"/.test(err.message));
  });
});
