/**
 * PARTIAL test of deploy/compose.yaml. What it runs for real: the image
 * `kbuild images build --kbuild` makes, started with the project's Docker
 * engine (dockerode) from compose.yaml's own `worker-1` definition (image,
 * environment with its ${VAR:-default} interpolation, host network), against
 * the project's real Redis, with a real Debian kernel build submitted from
 * this host, and its /metrics scraped. What it does NOT run: compose's
 * `redis`, `s3` and `bucket` services (this machine has no `docker compose`
 * plugin and reaches no image registry for redis:7; kbuild/rgw:trixie is not
 * made by the test), so the store here is a folder shared with the container
 * instead of the S3 bucket.
 */
import assert from 'node:assert/strict';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { parse } from 'yaml';
import { findMirror } from '../../builders/debian/mirror.js';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';
import { oneDebianNonCore } from '../helpers/kernel-sets.js';
import { useDockerd } from '../helpers/dockerd.js';
import { REDIS_URL, removeQueue, uniqueQueue } from '../helpers/farm.js';

const KERNELS = oneDebianNonCore();

interface ComposeService {
  image: string;
  network_mode?: string;
  environment: Record<string, string>;
}

/** Compose's `${VAR:-default}` interpolation, from `vars` only. */
const interpolate = (text: string, vars: Record<string, string>): string =>
  text.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_m, name: string, fallback: string | undefined) => vars[name] ?? fallback ?? '');

describe('deploy/compose.yaml worker service in the kbuild image (PARTIAL: no redis/s3 services; slow)', { timeout: 20 * 60 * 1000 }, () => {
  const docker = new Docker();
  let dockerd: Awaited<ReturnType<typeof useDockerd>>;
  let work: string;
  let container: Docker.Container | undefined;
  const queue = uniqueQueue('compose');
  const metricsPort = String(20000 + Math.floor(Math.random() * 20000));

  before(async () => {
    dockerd = await useDockerd();
    work = await mkdtemp(join(tmpdir(), 'kbuild-compose-'));
    await chmod(work, 0o755);
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), KERNELS);
  });
  after(async () => {
    await container?.remove({ force: true }).catch(() => undefined);
    await removeQueue(queue);
    await rm(work, { recursive: true, force: true });
    await dockerd.stop();
  });

  it('kbuild images build --kbuild makes kbuild/kbuild:latest', async () => {
    const built = await kbuild(['images', 'build', '--kbuild', '--json']);
    assert.equal(built.exitCode, 0, built.stderr);
    const [report] = JSON.parse(built.stdout) as { ref: string; id: string }[];
    assert.match(report!.ref, /^kbuild\/kbuild:[0-9a-f]{16}$/);
    assert.equal((await docker.getImage('kbuild/kbuild:latest').inspect()).Id, report!.id);
  });

  it("runs a submission through compose's worker-1, started from its definition, and serves its metrics", async () => {
    const compose = parse(await readFile(join(REPO_ROOT, 'deploy/compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
    const service = compose.services['worker-1']!;
    assert.equal(service.network_mode, 'host');
    const vars = { KBUILD_QUEUE: queue, KBUILD_REDIS_PORT: new URL(REDIS_URL).port };
    const env = Object.fromEntries(Object.entries(service.environment).map(([k, v]) => [k, interpolate(String(v), vars)]));
    env['KBUILD_METRICS'] = `127.0.0.1:${metricsPort}`;
    // The container's apt sources are the base image's; builds use the host's mirror.
    env['KBUILD_DEBIAN_MIRROR'] = (await findMirror()).url;
    // The image's worker runs as uid 10001: the folder store must be writable by it (an S3 store needs nothing).
    const store = join(work, 'store');
    await mkdir(store);
    await chmod(store, 0o777);
    container = await docker.createContainer({
      Image: service.image,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      HostConfig: { NetworkMode: 'host', Binds: [`${work}:${work}`] },
    });
    await container.start();
    const submitted = await kbuild(['submit', '--kernels', join(work, 'kernels.yaml'), '--store', store, '--queue', queue, '--redis', REDIS_URL, '--wait', '--json', '--no-verify']);
    const logs = String(await container.logs({ stdout: true, stderr: true }));
    assert.equal(submitted.exitCode, 0, `${submitted.stderr}\n--- worker:\n${logs}`);
    const index = JSON.parse(await readFile(join(store, 'index.json'), 'utf8')) as { artifacts: { path: string }[] };
    assert.deepEqual(index.artifacts.map((a) => a.path), ['execve/x86_64/execve_debian_6.1.0-50-cloud-amd64.o']);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /kbuild_worker_jobs_total\{[^}]*kind="build"[^}]*outcome="built"[^}]*\} 1/);
    assert.match(metrics, /kbuild_phase_seconds_count\{[^}]*phase="compile"[^}]*\} 1/);
  });
});
