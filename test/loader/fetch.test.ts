import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fetchArtifacts, type FetchOptions } from '@kbuild/loader';
import { writeIndex } from '../../src/runner/write-index.js';
import { generateKeyFiles, loadSigningKey } from '../../src/sign/signing-key.js';
import { FsStore } from '../../src/store/fs-store.js';
import { indexOf, storeNonCore } from '../helpers/index-fixtures.js';

const HOST = { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64', version: '#1 SMP Debian 6.1.176-1', hasBtf: true } as const;
const ARTIFACT = 'execve/x86_64/execve_debian_6.1.0-50-cloud-amd64.o';

/** Serves a folder on 127.0.0.1; `cut` names keys whose body stops half-way, as a dropped connection does. */
async function serve(root: string, cut: Set<string>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const key = decodeURIComponent((req.url ?? '/').slice(1));
    const path = join(root, key);
    stat(path).then(
      (s) => {
        res.writeHead(200, { 'content-length': s.size });
        if (cut.has(key)) {
          res.write(Buffer.alloc(Math.floor(s.size / 2)));
          res.socket?.destroy();
        } else createReadStream(path).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);
  return { url: `http://127.0.0.1:${address.port}`, server };
}

describe('fetch: verify, download what the host needs, cache', () => {
  let work: string;
  let storeDir: string;
  let dest: string;
  let keys: { privateKey: string; publicKey: string };
  let otherKeys: { privateKey: string; publicKey: string };
  let objectBytes: Buffer;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-fetch-'));
    keys = await generateKeyFiles(join(work, 'keys'));
    otherKeys = await generateKeyFiles(join(work, 'other-keys'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  // A fresh signed store per test: tampering in one test must not leak into the next.
  beforeEach(async () => {
    storeDir = await mkdtemp(join(work, 'store-'));
    dest = await mkdtemp(join(work, 'dest-'));
    const store = new FsStore(storeDir);
    objectBytes = randomBytes(4096);
    const wanted = await storeNonCore(store, 'execve', HOST.release, objectBytes);
    const other = await storeNonCore(store, 'execve', '6.1.0-49-cloud-amd64', randomBytes(100));
    await writeIndex(store, indexOf([wanted, other]), { signingKey: await loadSigningKey(keys.privateKey) });
  });

  const options = async (extra: Partial<FetchOptions> = {}): Promise<FetchOptions> => ({
    index: join(storeDir, 'index.json'),
    dest,
    host: HOST,
    publicKey: await readFile(keys.publicKey),
    ...extra,
  });

  const refused = async (extra: Partial<FetchOptions>, code: string): Promise<void> => {
    await assert.rejects(fetchArtifacts(await options(extra)), (err: Error & { code?: string }) => {
      assert.equal(err.code, code, err.message);
      return true;
    });
    assert.deepEqual(await readdir(dest), [], 'nothing (not even a temporary file) is left in the cache');
  };

  it('downloads only the picked object, verified, then reuses it without downloading', async () => {
    const first = await fetchArtifacts(await options());
    assert.equal(first.trust.signed, true);
    const object = first.probes[0]?.object;
    assert.equal(object?.key, ARTIFACT);
    assert.equal(object?.downloaded, true);
    assert.ok((await readFile(object.path)).equals(objectBytes));
    assert.deepEqual(await readdir(dest), [`${object.sha256}.o`], 'the other kernel\'s object was not downloaded');
    // The store may vanish: a second start finds everything in the cache.
    await rm(join(storeDir, ARTIFACT));
    const second = await fetchArtifacts(await options());
    assert.equal(second.probes[0]?.object?.downloaded, false);
    assert.equal(second.probes[0]?.object?.path, object.path);
  });

  it('refuses a tampered artifact (E_ARTIFACT_SHA256)', async () => {
    const tampered = Buffer.from(objectBytes);
    tampered[100] = (tampered[100] ?? 0) ^ 0xff;
    await writeFile(join(storeDir, ARTIFACT), tampered);
    await refused({}, 'E_ARTIFACT_SHA256');
  });

  it('refuses a truncated or grown artifact (E_ARTIFACT_SIZE)', async () => {
    await truncate(join(storeDir, ARTIFACT), 1000);
    await refused({}, 'E_ARTIFACT_SIZE');
    await writeFile(join(storeDir, ARTIFACT), Buffer.concat([objectBytes, Buffer.from('x')]));
    await refused({}, 'E_ARTIFACT_SIZE');
  });

  it('refuses a tampered index (E_INDEX_SIGNATURE) before parsing it', async () => {
    // A store without the sharded index (published by an older kbuild): agents read index.json itself.
    await rm(join(storeDir, 'index'), { recursive: true });
    const text = await readFile(join(storeDir, 'index.json'), 'utf8');
    await writeFile(join(storeDir, 'index.json'), text.replace(/"size": 4096/, '"size": 4095'));
    await refused({}, 'E_INDEX_SIGNATURE');
    await writeFile(join(storeDir, 'index.json'), '{ not json');
    await refused({}, 'E_INDEX_SIGNATURE');
  });

  it('refuses an index signed by another key (E_INDEX_WRONG_KEY)', async () => {
    await refused({ publicKey: await readFile(otherKeys.publicKey) }, 'E_INDEX_WRONG_KEY');
  });

  it('accepts an unsigned index only when told to', async () => {
    await rm(join(storeDir, 'index.json.sig'));
    // The publish's next signature still signs these very bytes (and is accepted): unsigned means neither.
    await rm(join(storeDir, 'index.json.next.sig'));
    // The same for the sharded index's manifest, signed alike.
    await rm(join(storeDir, 'index/manifest.json.sig'));
    await rm(join(storeDir, 'index/manifest.json.next.sig'));
    await refused({}, 'E_INDEX_UNSIGNED');
    const { publicKey: _key, ...noKey } = await options();
    await assert.rejects(fetchArtifacts(noKey), { code: 'E_NO_PUBLIC_KEY' });
    const result = await fetchArtifacts({ ...noKey, allowUnsigned: true });
    assert.equal(result.trust.signed, false);
    assert.equal(result.probes[0]?.object?.downloaded, true);
  });

  it('over HTTP: fetches, and a connection cut mid-download leaves nothing behind (E_NETWORK)', async () => {
    const cut = new Set<string>();
    const { url, server } = await serve(storeDir, cut);
    try {
      const http = { attempts: 2, baseDelayMs: 10 };
      const ok = await fetchArtifacts(await options({ index: `${url}/index.json`, http }));
      assert.equal(ok.probes[0]?.object?.downloaded, true);
      await rm(ok.probes[0]?.object?.path ?? '');
      cut.add(ARTIFACT);
      await refused({ index: `${url}/index.json`, http }, 'E_NETWORK');
      cut.clear();
      await truncate(join(storeDir, ARTIFACT), 10);
      await refused({ index: `${url}/index.json`, http }, 'E_ARTIFACT_SIZE');
    } finally {
      server.close();
    }
  });

  it('reads again when it catches a publish between index.json and its signature', async () => {
    const sigPath = join(storeDir, 'index.json.sig');
    const oldSig = await readFile(sigPath);
    const store = new FsStore(storeDir);
    const extra = await storeNonCore(store, 'execve', '6.1.0-48-cloud-amd64', randomBytes(10));
    await writeIndex(store, indexOf([extra]), { signingKey: await loadSigningKey(keys.privateKey) });
    const newSig = await readFile(sigPath);
    await writeFile(sigPath, oldSig);
    const finishing = new Promise((resolve) => setTimeout(resolve, 100)).then(() => writeFile(sigPath, newSig));
    const result = await fetchArtifacts(await options());
    await finishing;
    assert.equal(result.trust.signed, true);
    assert.equal(result.probes[0]?.object?.key, ARTIFACT);
  });

  it('explains a host nothing fits, downloading nothing', async () => {
    const host = { ...HOST, release: '5.10.0-30-amd64', hasBtf: false };
    // Through the shards the agent learns only of its own kernel: it says what is missing.
    const sharded = await fetchArtifacts(await options({ host }));
    assert.equal(sharded.via, 'shards');
    assert.equal(sharded.probes[0]?.object, undefined);
    assert.match(sharded.probes[0]?.pick.needs ?? '', /a build of probe "execve" for debian 5\.10\.0-30-amd64 x86_64, or a CO-RE object for x86_64/);
    // From index.json (a store without shards) every other kernel's object is listed as rejected.
    await rm(join(storeDir, 'index'), { recursive: true });
    const result = await fetchArtifacts(await options({ host }));
    assert.equal(result.via, 'index');
    assert.equal(result.probes[0]?.object, undefined);
    assert.equal(result.probes[0]?.pick.rejected.length, 2);
    assert.deepEqual(await readdir(dest), []);
  });
});
