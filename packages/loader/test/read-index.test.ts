import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { fetchArtifact, IntegrityError, KbuildError, LoaderErrorCode, readIndex, readIndexFile, UnknownProbeError } from '../src/index.js';
import { HOST, OBJECT_KEY, serveFolder, signedStore, type SignedStore } from './fixtures.js';

/** Every index entry point: one way to read, the signature checked unless explicitly waived. */
describe('readIndex: any location, signature checked by default', () => {
  let root: string;
  let store: SignedStore;
  let web: Awaited<ReturnType<typeof serveFolder>>;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'kbuild-loader-read-'));
    store = await signedStore(join(root, 'loader-bucket', 'v1'));
    web = await serveFolder(root);
  });
  after(async () => {
    await web.close();
    await rm(root, { recursive: true, force: true });
  });

  const s3 = () => ({ endpoint: web.url, region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test', forcePathStyle: true });

  it('reads the same signed index from a path, a folder, file://, http(s):// and s3://', async () => {
    const locations = [
      join(store.dir, 'index.json'),
      store.dir,
      pathToFileURL(join(store.dir, 'index.json')).toString(),
      `${web.url}/loader-bucket/v1/index.json`,
      `${web.url}/loader-bucket/v1/`,
      's3://loader-bucket/v1',
      's3://loader-bucket/v1/index.json',
    ];
    for (const location of locations) {
      const read = await readIndex(location, { publicKey: store.publicKeyPem, s3: s3() });
      assert.deepEqual(read.index, store.index, location);
      assert.equal(read.trust.signed, true, location);
      assert.match(read.location, /index\.json$/, location);
    }
  });

  it('refuses to read without a public key or an explicit allowUnsigned, before any I/O', async () => {
    for (const location of [store.dir, join(root, 'does-not-exist'), 's3://loader-bucket/v1']) {
      // @ts-expect-error: the trust argument is required; JavaScript callers get the runtime check.
      await assert.rejects(readIndex(location), (err: unknown) => err instanceof KbuildError && err.code === LoaderErrorCode.NO_PUBLIC_KEY && err.exitCode === 2);
      await assert.rejects(readIndex(location, {} as never), (err: unknown) => err instanceof KbuildError && err.code === 'E_NO_PUBLIC_KEY');
    }
    // @ts-expect-error: as above, for the older file-only entry point.
    await assert.rejects(readIndexFile(join(store.dir, 'index.json')), (err: unknown) => err instanceof KbuildError && err.code === 'E_NO_PUBLIC_KEY');
    const unsigned = await readIndexFile(join(store.dir, 'index.json'), { allowUnsigned: true });
    assert.deepEqual(unsigned, store.index);
  });

  it('refuses a tampered index and a foreign key as IntegrityErrors (exit 4)', async () => {
    const tampered = await signedStore();
    try {
      await writeFile(join(tampered.dir, 'index.json'), `${JSON.stringify(tampered.index)}\n`);
      await assert.rejects(readIndex(tampered.dir, { publicKey: tampered.publicKeyPem }), (err: unknown) => err instanceof IntegrityError && err.code === 'E_INDEX_SIGNATURE' && err.exitCode === 4);
      await assert.rejects(readIndex(store.dir, { publicKey: tampered.publicKeyPem }), (err: unknown) => err instanceof IntegrityError && err.code === 'E_INDEX_WRONG_KEY');
    } finally {
      await rm(tampered.dir, { recursive: true, force: true });
    }
  });

  it('names a location it cannot read as a usage error', async () => {
    await assert.rejects(readIndex('ftp://example.invalid/index.json', { allowUnsigned: true }), (err: unknown) => err instanceof KbuildError && err.code === 'E_INDEX_URL' && err.exitCode === 2);
    await assert.rejects(readIndex('s3://NO_SUCH/bucket', { allowUnsigned: true }), (err: unknown) => err instanceof KbuildError && err.code === 'E_S3_URL' && err.exitCode === 2);
    await assert.rejects(readIndex(join(root, 'nothing'), { allowUnsigned: true }), (err: unknown) => err instanceof KbuildError && err.code === 'E_INDEX_NOT_FOUND');
  });

  it('fetchArtifact: a probe the index does not list is E_UNKNOWN_PROBE and downloads nothing', async () => {
    const dest = await mkdtemp(join(root, 'dest-'));
    await assert.rejects(
      fetchArtifact({ index: store.dir, dest, probe: 'exceve', host: HOST, publicKey: store.publicKey }),
      (err: unknown) => err instanceof UnknownProbeError && err.code === 'E_UNKNOWN_PROBE' && /Did you mean "execve"/.test(err.suggestions.join(' ')),
    );
    assert.deepEqual(await readdir(dest), []);
    const fetched = await fetchArtifact({ index: `${web.url}/loader-bucket/v1`, dest, probe: 'execve', host: HOST, publicKey: store.publicKey });
    assert.equal(fetched.object.key, OBJECT_KEY);
    assert.equal(fetched.pick.choice?.mode, 'non-core');
  });
});
