import assert from 'node:assert/strict';
import { execa } from 'execa';
import { cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, kbuild, REPO_ROOT } from '../helpers/cli.js';
import { slowToolchain, startWorker, stopWorker, type WorkerProcess } from '../helpers/farm.js';
import { threeDebianKernels } from '../helpers/kernel-sets.js';
import { netLab, type NetLab } from '../helpers/netns.js';
import { ownRedis, type OwnRedis } from '../helpers/own-redis.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { assertSignedAndComplete } from '../helpers/store-check.js';

const EXPECTED = [
  'core/arm64/execve.o',
  'core/x86_64/execve.o',
  'execve/arm64/execve_debian_6.1.0-50-arm64.o',
  'execve/x86_64/execve_debian_6.1.0-50-cloud-amd64.o',
  'execve/x86_64/execve_debian_6.12.117+deb13-cloud-amd64.o',
];

/**
 * Two workers on "other machines": network namespaces whose only route is to
 * this machine's bridge address, where a Redis and an S3 server of the test's
 * own listen. Each worker has its own disk under the store's path (a tmpfs in
 * its own mount namespace), as a second machine would.
 */
describe('a farm across machines (network namespaces, own disks, slow)', { timeout: 15 * 60_000 }, () => {
  let work: string;
  let lab: NetLab;
  let redis: OwnRedis;
  const workers: WorkerProcess[] = [];

  const worker = async (host: number, queue: string, ownDisks: string[], env: Record<string, string> = {}, args: string[] = []): Promise<WorkerProcess> => {
    const w = await startWorker(queue, { redisUrl: redis.url, wrap: lab.hosts[host]!.wrap(ownDisks), env, args: ['--concurrency', '1', ...args] });
    workers.push(w);
    return w;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-across-hosts-'));
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), threeDebianKernels());
    lab = await netLab(2);
    redis = await ownRedis({ bind: lab.hostAddr });
  });
  after(async () => {
    await Promise.all(workers.map((w) => (w.child.exitCode === null ? stopWorker(w) : undefined)));
    await redis?.stop();
    await lab?.destroy();
    await rm(work, { recursive: true, force: true });
  });

  it('a folder store the workers cannot see is refused with E_STORE_NOT_SHARED, exit 1, and no worker writes a copy of its own', async () => {
    const store = join(work, 'store');
    await mkdir(store);
    const seen = [await worker(0, 'folder', [store]), await worker(1, 'folder', [store])];
    const started = Date.now();
    const result = await kbuild(['submit', '--kernels', join(work, 'kernels.yaml'), '--store', store, '--redis', redis.url, '--queue', 'folder', '--wait']);
    assert.equal(result.exitCode, 1, result.stderr);
    assert.ok(Date.now() - started < 60_000, 'fails fast, without building');
    assert.match(result.stderr, /FAILED E_STORE_NOT_SHARED: worker \S+ cannot see folder store \S+\/store that the submitter wrote .*use an S3 store or a shared mount/);
    assert.match(result.stdout, /0 done, 5 failed, .* of 5; index failed/);
    const status = await kbuild(['status', '--redis', redis.url, '--queue', 'folder']);
    assert.equal(status.exitCode, 1, status.stdout);
    assert.match(status.stdout, /publish failed: E_STORE_NOT_SHARED: worker \S+ cannot see folder store/);
    // Refused up front: the submitter's folder has the sources bundle and the token, never an index.
    assert.equal(await stat(join(store, 'index.json')).catch(() => undefined), undefined);
    // Each worker's own disk (seen through its mount namespace) stayed empty: no silent local copy.
    for (const w of seen) assert.deepEqual(await readdir(`/proc/${w.child.pid}/root${store}`), [], w.output());
    for (const w of seen) assert.equal(await stopWorker(w), 0, w.output());
  });

  describe('an S3 store', () => {
    let rgw: Rgw;
    let bucket: string;

    before(async () => {
      rgw = await startRgw({ host: lab.hostAddr });
      bucket = await rgw.createBucket();
      const keygen = await kbuild(['keygen', '--out', join(work, 'keys')]);
      assert.equal(keygen.exitCode, 0, keygen.stderr);
      // The namespaces reach no package archive: what the builds download is fetched here first (shared cache).
      const warm = await kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--out', join(work, 'warm')]);
      assert.equal(warm.exitCode, 0, warm.stderr);
    });
    after(async () => {
      await rgw?.stop();
    });

    it('survives a worker cut off the network mid-build: the other takes its job back, and the index is complete and signed', async () => {
      const env = { ...rgw.env, PATH: await slowToolchain(join(work, 'slow'), 3) };
      const args = ['--signing-key', join(work, 'keys/kbuild-index.key'), '--lock-duration', '8000', '--stalled-interval', '3000'];
      const own = join(work, 'scratch');
      await mkdir(own);
      const [a, b] = [await worker(0, 's3', [own], { ...env, TMPDIR: own }, args), await worker(1, 's3', [own], { ...env, TMPDIR: own }, args)];
      const store = `s3://${bucket}/farm`;
      const submit = execa('node', [CLI, 'submit', '--kernels', join(work, 'kernels.yaml'), '--store', store, '--redis', redis.url, '--queue', 's3', '--wait', '--no-verify'], {
        cwd: REPO_ROOT,
        env: rgw.env,
        reject: false,
      });
      await a!.waitFor(/compiling/, 120_000);
      await lab.hosts[0]!.cut();
      // Longer than the lock: the job A was building is taken back by B.
      await b!.waitFor(/took back stalled job/, 60_000);
      await new Promise((r) => setTimeout(r, 5000));
      await lab.hosts[0]!.restore();
      const result = await submit;
      assert.equal(result.exitCode, 0, `${String(result.stderr)}\nA:\n${a!.output()}\nB:\n${b!.output()}`);
      assert.match(String(result.stdout), /5 done, 0 failed, 0 running, 0 queued of 5; index published/);
      // A silent cable keeps TCP connections open: A need not notice, but its job was built by B all the same.
      assert.match(b!.output(), /took back stalled job b-[0-9a-f]+/);
      await assertSignedAndComplete(store, join(work, 'keys/kbuild-index.pub'), rgw.env, EXPECTED);
      for (const w of [a!, b!]) assert.equal(await stopWorker(w), 0, w.output());
    });
  });
});
