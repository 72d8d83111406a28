/**
 * Slow: the whole farm of deploy/compose.yaml — Redis, the S3 server (radosgw),
 * the bucket job and two workers — from images `kbuild images build --farm`
 * makes out of Debian packages (no registry), run with the project's Docker
 * engine. This machine's engine has no `docker compose` plugin, so the
 * containers are created from the compose file by test/helpers/compose-runner.ts
 * (dockerode), as compose would create them. Every service is on the host
 * network bound to 127.0.0.1 with ports of the test's choosing. A one-kernel
 * kernels.yaml is submitted from this host with `kbuild submit --wait`; the
 * index the workers sign must be in the S3 service, verify with the public
 * key, and name the object there byte for byte.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import Docker from 'dockerode';
import { readIndex } from '@kbuild/loader';
import { findMirror } from '../../builders/debian/mirror.js';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';
import { composeProject, type ComposeProject } from '../helpers/compose-runner.js';
import { useDockerd } from '../helpers/dockerd.js';
import { oneDebianNonCore } from '../helpers/kernel-sets.js';

const port = (): number => 20000 + Math.floor(Math.random() * 20000);

function refused(host: string, p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port: p });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
}

describe('deploy/compose.yaml: a whole farm (redis, radosgw, workers) runs a submission (slow)', { timeout: 40 * 60 * 1000 }, () => {
  const docker = new Docker();
  let dockerd: Awaited<ReturnType<typeof useDockerd>>;
  let work: string;
  let farm: ComposeProject | undefined;
  const project = `kbuild-farm-test-${randomBytes(3).toString('hex')}`;
  const ports = { redis: port(), s3: port(), m1: port(), m2: port() };
  const keys = { access: 'KBUILDFARMTEST' + randomBytes(3).toString('hex').toUpperCase(), secret: randomBytes(20).toString('hex') };

  before(async () => {
    dockerd = await useDockerd();
    work = await mkdtemp(join(tmpdir(), 'kbuild-compose-farm-'));
    await chmod(work, 0o755);
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), oneDebianNonCore());
  });
  after(async () => {
    await farm?.down();
    const left = await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`] } });
    for (const c of left) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
    await dockerd.stop();
  });

  it('kbuild images build --farm makes kbuild/kbuild, kbuild/redis and kbuild/rgw from Debian packages', async () => {
    const built = await kbuild(['images', 'build', '--farm', '--json']);
    assert.equal(built.exitCode, 0, built.stderr);
    const reports = JSON.parse(built.stdout) as { distro: string; ref: string; id: string; base: string }[];
    assert.deepEqual(reports.map((r) => r.distro), ['kbuild', 'redis', 'rgw']);
    for (const r of reports) assert.equal((await docker.getImage(`kbuild/${r.distro}:latest`).inspect()).Id, r.id);
    assert.equal(reports[2]!.base, 'kbuild/base-debian:trixie');
  });

  it('brings the farm up, builds a submitted kernels.yaml, and publishes a signed index to the S3 service', async () => {
    const keyDir = join(work, 'keys');
    const keygen = await kbuild(['keygen', '--out', keyDir, '--json']);
    assert.equal(keygen.exitCode, 0, keygen.stderr);
    // The workers run as uid 10001.
    await chmod(keyDir, 0o755);
    await chmod(join(keyDir, 'kbuild-index.key'), 0o644);
    const queue = `compose-${randomBytes(3).toString('hex')}`;
    farm = await composeProject(join(REPO_ROOT, 'deploy/compose.yaml'), project, {
      KBUILD_REDIS_PORT: String(ports.redis),
      KBUILD_S3_PORT: String(ports.s3),
      KBUILD_S3_ACCESS_KEY: keys.access,
      KBUILD_S3_SECRET_KEY: keys.secret,
      KBUILD_METRICS_PORT_1: String(ports.m1),
      KBUILD_METRICS_PORT_2: String(ports.m2),
      KBUILD_QUEUE: queue,
      KBUILD_KEYS_DIR: keyDir,
      KBUILD_DEBIAN_MIRROR: (await findMirror()).url,
    });
    assert.deepEqual([...farm.services].sort(), ['bucket', 'redis', 's3', 'worker-1', 'worker-2']);
    await farm.up();

    // Loopback only: the machine's other addresses refuse the farm's ports.
    const external = Object.values(networkInterfaces()).flat().find((a) => a !== undefined && a.family === 'IPv4' && !a.internal);
    if (external !== undefined) {
      for (const p of [ports.redis, ports.s3, ports.m1]) assert.equal(await refused(external.address, p), true, `${external.address}:${p} must refuse`);
    }

    const s3env = {
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${ports.s3}`,
      AWS_ACCESS_KEY_ID: keys.access,
      AWS_SECRET_ACCESS_KEY: keys.secret,
      AWS_REGION: 'us-east-1',
    };
    const store = 's3://kbuild/agent/v1.0.0';
    const submitted = await kbuild(
      ['submit', '--kernels', join(work, 'kernels.yaml'), '--store', store, '--redis', `redis://127.0.0.1:${ports.redis}`, '--queue', queue, '--wait', '--no-verify', '--json'],
      { env: s3env },
    );
    const logs = async (): Promise<string> => (await Promise.all(['worker-1', 'worker-2'].map(async (w) => `--- ${w}:\n${await farm!.logs(w)}`))).join('\n');
    assert.equal(submitted.exitCode, 0, `${submitted.stderr}\n${await logs()}`);

    const publicKey = await readFile(join(keyDir, 'kbuild-index.pub'));
    const s3 = { endpoint: s3env.AWS_ENDPOINT_URL_S3, region: 'us-east-1', accessKeyId: keys.access, secretAccessKey: keys.secret, forcePathStyle: true };
    const read = await readIndex(store, { publicKey, s3 });
    assert.equal(read.trust.signed, true);
    assert.deepEqual(read.index.artifacts.map((a) => a.path), ['execve/x86_64/execve_debian_6.1.0-50-cloud-amd64.o']);
    // The object is in the bucket, with the bytes the signed index names.
    const client = new S3Client({ ...s3, credentials: { accessKeyId: keys.access, secretAccessKey: keys.secret } });
    try {
      const artifact = read.index.artifacts[0]!;
      const object = await client.send(new GetObjectCommand({ Bucket: 'kbuild', Key: `agent/v1.0.0/${artifact.path}` }));
      const bytes = Buffer.from(await object.Body!.transformToByteArray());
      assert.equal(bytes.length, artifact.size);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), artifact.sha256);
    } finally {
      client.destroy();
    }
    // A tampered public key is refused: the check above was a real signature check.
    const other = await kbuild(['keygen', '--out', join(work, 'other'), '--json']);
    assert.equal(other.exitCode, 0);
    await assert.rejects(readIndex(store, { publicKey: await readFile(join(work, 'other', 'kbuild-index.pub')), s3 }));

    // Exactly one build, done by one of the two workers, as their metrics count it.
    let built = 0;
    for (const p of [ports.m1, ports.m2]) {
      const metrics = await (await fetch(`http://127.0.0.1:${p}/metrics`)).text();
      built += Number(/kbuild_worker_jobs_total\{[^}]*kind="build"[^}]*outcome="built"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
    }
    assert.equal(built, 1, await logs());
  });
});
