import assert from 'node:assert/strict';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex } from '@kbuild/loader';
import { loadIntoHostKernel } from '../helpers/bpffs.js';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';

// Two real Debian kernels (cached by the other end-to-end tests; one with a '+' in its release, which
// must survive S3 keys and HTTP URLs): their per-kernel objects and the x86_64 CO-RE object. The 6.12
// one is declared without BTF, so the bucket also holds its minimized external BTF.
const KERNELS = `probes:
  - name: execve
    source: probes/execve/execve.bpf.c
kernels:
  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64, btf: true }
  - { distro: debian, release: 6.12.117+deb13-cloud-amd64, arch: x86_64, btf: false }
`;
const REDIS = process.env['KBUILD_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

interface FetchedJson {
  path: string;
  key: string;
  sha256: string;
  downloaded: boolean;
}
interface FetchJson {
  trust: { signed: boolean; keyId?: string };
  probes: { choice?: { mode: string; artifact: { path: string; sha256: string }; btf?: { path: string; sha256: string } }; object?: FetchedJson; btf?: FetchedJson }[];
}

describe('build into a real S3 bucket (Ceph RGW), fetch back over S3 and HTTP (slow)', { timeout: 30 * 60_000 }, () => {
  let work: string;
  let rgw: Rgw;
  let bucket: string;
  let store: string;
  let env: Record<string, string>;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-s3-'));
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), KERNELS);
    rgw = await startRgw();
    bucket = await rgw.createBucket({ publicRead: true });
    store = `s3://${bucket}/farm`;
    env = { ...rgw.env, PATH: process.env['PATH'] ?? '' };
  });
  after(async () => {
    await rgw?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const fetchJson = (index: string, dest: string, extra: string[] = []) =>
    kbuild(['fetch', '--index', index, '--dest', join(work, dest), '--public-key', join(work, 'keys/kbuild-index.pub'), '--json', ...extra], { env });
  const objectOf = (stdout: string) => (JSON.parse(stdout) as FetchJson).probes[0];
  const s3Put = (key: string, body: Uint8Array | string) => rgw.client.send(new PutObjectCommand({ Bucket: bucket, Key: `farm/${key}`, Body: body }));
  const s3Get = async (key: string) => Buffer.from(await (await rgw.client.send(new GetObjectCommand({ Bucket: bucket, Key: `farm/${key}` }))).Body!.transformToByteArray());

  it('keygen, then build --out s3:// signs the index; a second build rebuilds nothing', async () => {
    const keygen = await kbuild(['keygen', '--out', join(work, 'keys'), '--json']);
    assert.equal(keygen.exitCode, 0, keygen.stderr);
    const args = ['build', '--kernels', join(work, 'kernels.yaml'), '--out', store, '--signing-key', join(work, 'keys/kbuild-index.key'), '--redis', REDIS, '--json'];
    const first = await kbuild(args, { env });
    assert.equal(first.exitCode, 0, first.stderr + first.stdout);
    // CO-RE, two per-kernel objects, and the external BTF of the kernel declared without BTF.
    assert.equal((JSON.parse(first.stdout) as { built: number }).built, 4);
    // Each S3 PUT of an artifact is a progress line on stderr (never in --json's stdout).
    assert.match(first.stderr, /^kbuild: stored s3:\/\/.*\/core\/x86_64\/execve\.o \(/m);
    const index = ArtifactIndex.parse(JSON.parse((await s3Get('index.json')).toString('utf8')));
    assert.deepEqual(index.artifacts.map((a) => a.path).sort(), [
      'core/x86_64/execve.o',
      'execve/x86_64/execve_debian_6.1.0-50-cloud-amd64.o',
      'execve/x86_64/execve_debian_6.12.117+deb13-cloud-amd64.o',
    ]);
    assert.match((await s3Get('index.json.sig')).toString('utf8'), /"algorithm": "ed25519"/);
    const second = await kbuild(args, { env });
    assert.equal(second.exitCode, 0, second.stderr);
    assert.equal((JSON.parse(second.stdout) as { skipped: number }).skipped, 4);
  });

  it('fetch over S3 picks the CO-RE object for this machine, which loads; a second start downloads nothing', async () => {
    const first = await fetchJson(`${store}/index.json`, 'cache');
    assert.equal(first.exitCode, 0, first.stderr);
    assert.equal((JSON.parse(first.stdout) as FetchJson).trust.signed, true);
    const picked = objectOf(first.stdout);
    assert.equal(picked?.choice?.mode, 'core');
    assert.equal(picked?.object?.downloaded, true);
    assert.match(first.stderr, /^kbuild: downloaded execve\.o \(/m);
    const loaded = await loadIntoHostKernel(picked.object.path);
    assert.ok(loaded.ok, loaded.output);
    const again = objectOf((await fetchJson(store, 'cache')).stdout);
    assert.equal(again?.object?.downloaded, false);
    assert.equal(again?.object?.path, picked.object.path);
  });

  it('fetch over plain HTTP (the bucket read anonymously) gets the same verified bytes; paths on stdout', async () => {
    const http = `${rgw.endpoint}/${bucket}/farm/index.json`;
    const debianHost = ['--distro', 'debian', '--release', '6.12.117+deb13-cloud-amd64', '--btf', 'no'];
    const viaHttp = await fetchJson(http, 'cache-http', debianHost);
    assert.equal(viaHttp.exitCode, 0, viaHttp.stderr);
    const picked = objectOf(viaHttp.stdout);
    assert.equal(picked?.choice?.mode, 'non-core');
    assert.equal(picked?.choice?.artifact.path, 'execve/x86_64/execve_debian_6.12.117+deb13-cloud-amd64.o');
    assert.equal(picked?.object?.downloaded, true);
    assert.equal(picked.object.sha256, picked.choice?.artifact.sha256);
    const plain = await kbuild(['fetch', '--index', http, '--dest', join(work, 'cache-http'), '--public-key', join(work, 'keys/kbuild-index.pub'), ...debianHost], { env });
    assert.equal(plain.stdout, `execve object ${picked.object.path}`);
  });

  it('fetch --prefer-core on a kernel without BTF downloads the CO-RE object and its minimized BTF, verified', async () => {
    const noBtfHost = ['--distro', 'debian', '--release', '6.12.117+deb13-cloud-amd64', '--arch', 'x86_64', '--btf', 'no', '--prefer-core'];
    const fetched = await fetchJson(store, 'cache-btf', noBtfHost);
    assert.equal(fetched.exitCode, 0, fetched.stderr);
    const picked = objectOf(fetched.stdout);
    assert.equal(picked?.choice?.mode, 'core+external-btf');
    assert.equal(picked?.object?.key, 'core/x86_64/execve.o');
    assert.match(picked?.btf?.key ?? '', /^btf\/[0-9a-f]{64}\.btf$/);
    assert.equal(picked?.btf?.sha256, picked?.choice?.btf?.sha256);
    assert.deepEqual(await readFile(picked!.btf!.path), await s3Get(picked!.btf!.key));

    // A BTF blob that is not what the signed index lists is refused like a tampered object.
    const btfKey = picked!.btf!.key;
    const original = await s3Get(btfKey);
    await s3Put(btfKey, Buffer.concat([original, Buffer.from([0])]));
    const refused = await fetchJson(store, 'cache-btf-tampered', noBtfHost);
    assert.equal(refused.exitCode, 4, refused.stderr);
    assert.match(refused.stderr, /btf\/[0-9a-f]{64}\.btf/);
    assert.deepEqual((await readdir(join(work, 'cache-btf-tampered')).catch(() => [])).filter((f) => f.endsWith('.btf')), []);
    await s3Put(btfKey, original);
  });

  it('refuses a tampered artifact, a tampered index and a wrong key, leaving the cache empty', async () => {
    const objectKey = 'core/x86_64/execve.o';
    const original = await s3Get(objectKey);
    const tampered = Buffer.from(original);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 0xff;
    await s3Put(objectKey, tampered);
    const badArtifact = await fetchJson(store, 'cache-tampered');
    assert.equal(badArtifact.exitCode, 4, badArtifact.stderr);
    assert.match(badArtifact.stderr, /core\/x86_64\/execve\.o: sha256 [0-9a-f]{64}, the index lists/);
    await s3Put(objectKey, original);

    // An agent reads the signed manifest of the sharded index (and never index.json while it is valid).
    const manifest = await s3Get('index/manifest.json');
    await s3Put('index/manifest.json', Buffer.from(manifest.toString('utf8').replace('{', '{ ')));
    const badIndex = await fetchJson(store, 'cache-tampered');
    assert.equal(badIndex.exitCode, 4, badIndex.stderr);
    assert.match(badIndex.stderr, /signature does not match the index/);
    await s3Put('index/manifest.json', manifest);

    await kbuild(['keygen', '--out', join(work, 'other-keys')]);
    const wrongKey = await kbuild(['fetch', '--index', store, '--dest', join(work, 'cache-tampered'), '--public-key', join(work, 'other-keys/kbuild-index.pub')], { env });
    assert.equal(wrongKey.exitCode, 4);
    assert.match(wrongKey.stderr, /signed by key [0-9a-f]{16}, the trusted key is [0-9a-f]{16}/);
    assert.deepEqual(await readdir(join(work, 'cache-tampered')).catch(() => []), []);

    const restored = await fetchJson(store, 'cache-tampered');
    assert.equal(restored.exitCode, 0, restored.stderr);
  });
});
