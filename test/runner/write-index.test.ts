import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseSignature, publicKeyFromPem, verifyIndexBytes } from '@kbuild/loader/internal';
import { writeIndex } from '../../src/runner/write-index.js';
import { generateKeyFiles, loadSigningKey, type SigningKey } from '../../src/sign/signing-key.js';
import { FsStore } from '../../src/store/fs-store.js';
import { indexOf, storeNonCore } from '../helpers/index-fixtures.js';

const failure = (release: string) => ({
  probe: 'execve',
  kind: 'non-core' as const,
  arch: 'x86_64' as const,
  kernel: { distro: 'debian', release, arch: 'x86_64' as const },
  code: 'E_COMPILE',
  message: 'broken',
});

describe('writeIndex: merge, sign, refuse what it cannot vouch for', () => {
  let work: string;
  let key: SigningKey;
  let other: SigningKey;
  let publicKeyPem: Buffer;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-write-index-'));
    const keys = await generateKeyFiles(join(work, 'keys'));
    key = await loadSigningKey(keys.privateKey);
    publicKeyPem = await readFile(keys.publicKey);
    other = await loadSigningKey((await generateKeyFiles(join(work, 'other'))).privateKey);
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('merges by path, keeps others\' entries, drops a failure once that kernel built, signs the exact bytes', async () => {
    const store = new FsStore(join(work, 'merge'));
    const a = await storeNonCore(store, 'execve', '6.1.0-1-amd64', Buffer.from('a'));
    const b = await storeNonCore(store, 'execve', '6.1.0-2-amd64', Buffer.from('b'));
    await writeIndex(store, indexOf([a], [failure('6.1.0-2-amd64'), failure('6.1.0-3-amd64')]), { signingKey: key });
    const a2 = await storeNonCore(store, 'execve', '6.1.0-1-amd64', Buffer.from('a, rebuilt'));
    const result = await writeIndex(store, indexOf([a2, b]), { signingKey: key });
    assert.deepEqual(result.index.artifacts.map((x) => [x.path, x.size]), [[a.path, 10], [b.path, 1]]);
    assert.deepEqual(result.index.failures.map((f) => f.kernel.release), ['6.1.0-3-amd64']);
    assert.match(result.lock, /\.index\.json\.lock$/);
    const bytes = await readFile(join(store.location, 'index.json'));
    const sig = parseSignature(await readFile(join(store.location, 'index.json.sig')), 'sig');
    assert.equal(verifyIndexBytes(bytes, sig, { publicKey: publicKeyFromPem(publicKeyPem, 'pub') }, 'index').signed, true);
  });

  it('refuses to publish unsigned over a signed index, or with another key', async () => {
    const store = new FsStore(join(work, 'signed'));
    const a = await storeNonCore(store, 'execve', '6.1.0-1-amd64', Buffer.from('a'));
    await writeIndex(store, indexOf([a]), { signingKey: key });
    await assert.rejects(writeIndex(store, indexOf([a]), { env: {} }), { code: 'E_SIGNING_KEY_REQUIRED' });
    await assert.rejects(writeIndex(store, indexOf([a]), { signingKey: other }), { code: 'E_INDEX_WRONG_KEY' });
  });

  it('refuses to sign over an index that was modified or never signed', async () => {
    const store = new FsStore(join(work, 'tampered'));
    const a = await storeNonCore(store, 'execve', '6.1.0-1-amd64', Buffer.from('a'));
    await writeIndex(store, indexOf([a]), { signingKey: key });
    const path = join(store.location, 'index.json');
    await writeFile(path, (await readFile(path, 'utf8')).replace('"toolchain": "test"', '"toolchain": "evil"'));
    await assert.rejects(writeIndex(store, indexOf([a]), { signingKey: key }), { code: 'E_INDEX_SIGNATURE' });
    const unsigned = new FsStore(join(work, 'unsigned'));
    await writeIndex(unsigned, indexOf([a]), { env: {} });
    await assert.rejects(writeIndex(unsigned, indexOf([a]), { signingKey: key }), { code: 'E_INDEX_UNSIGNED' });
  });
});
