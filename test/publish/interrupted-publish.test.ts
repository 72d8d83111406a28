import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseIndex, parseSignature, publicKeyFromPem, sha256Hex, verifyIndexBytes } from '@kbuild/loader/internal';
import { writeIndex } from '../../src/runner/write-index.js';
import { generateKeyFiles, loadSigningKey, signIndexBytes, type SigningKey } from '../../src/sign/signing-key.js';
import { FsStore } from '../../src/store/fs-store.js';
import { openStore } from '../../src/store/open-store.js';
import type { ArtifactStore } from '../../src/store/types.js';
import { kbuild } from '../helpers/cli.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { indexOf, storeNonCore } from '../helpers/index-fixtures.js';

/** A real store, with one write of `failKey` failing as a full disk or a dropped PUT would. */
function failingOnce(store: ArtifactStore, failKey: string): ArtifactStore {
  let failed = false;
  return {
    location: store.location,
    putFile: (key, path) => store.putFile(key, path),
    putBytes: async (key, bytes) => {
      if (key === failKey && !failed) {
        failed = true;
        throw Object.assign(new Error(`ENOSPC: no space left on device, write '${key}'`), { code: 'ENOSPC' });
      }
      await store.putBytes(key, bytes);
    },
    get: (key) => store.get(key),
    stat: (key) => store.stat(key),
    close: () => store.close(),
  };
}

describe('a signed publish cut short between its writes', () => {
  let work: string;
  let keys: { privateKey: string; publicKey: string };
  let signingKey: SigningKey;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-interrupted-publish-'));
    keys = await generateKeyFiles(join(work, 'keys'));
    signingKey = await loadSigningKey(keys.privateKey);
  });
  after(() => rm(work, { recursive: true, force: true }));

  async function publish(store: ArtifactStore, probe: string): Promise<void> {
    const artifact = await storeNonCore(store, probe, '6.1.0-50-cloud-amd64', randomBytes(80));
    await writeIndex(store, indexOf([artifact]), { signingKey });
  }

  async function fetchProbe(out: string, probe: string) {
    return kbuild(['fetch', '--index', out, '--dest', join(work, 'cache'), '--public-key', keys.publicKey, '--probe', probe,
      '--distro', 'debian', '--release', '6.1.0-50-cloud-amd64', '--arch', 'x86_64', '--btf', 'yes']);
  }

  async function assertSignedWith(out: string, probes: string[]): Promise<void> {
    const bytes = await readFile(join(out, 'index.json'));
    const sig = parseSignature(await readFile(join(out, 'index.json.sig')), 'sig');
    assert.equal(sig.indexSha256, sha256Hex(bytes), 'index.json.sig is the signature of index.json again');
    verifyIndexBytes(bytes, sig, { publicKey: publicKeyFromPem(await readFile(keys.publicKey), 'pub') }, 'index');
    assert.deepEqual([...new Set(parseIndex(bytes.toString(), 'index').artifacts.map((a) => a.probe))].sort(), probes);
  }

  // The sharded index's manifest is written (signed alike) between index.json.next.sig and index.json.
  for (const failKey of ['index.json.sig', 'index.json', 'index.json.next.sig', 'index/manifest.json.next.sig', 'index/manifest.json', 'index/manifest.json.sig']) {
    it(`failing the write of ${failKey}: readers still verify, and the next publish heals the store`, async () => {
      const out = join(work, `store-${failKey.replace('/', '-')}`);
      const store = new FsStore(out);
      await publish(store, 'first');
      await assert.rejects(publish(failingOnce(store, failKey), 'second'), /ENOSPC/);

      const between = await fetchProbe(out, 'first');
      assert.equal(between.exitCode, 0, `fetch accepts the store as the failure left it:\n${between.stderr}`);

      await publish(store, 'third');
      const written = failKey === 'index.json.sig' ? ['first', 'second', 'third'] : ['first', 'third'];
      await assertSignedWith(out, written);
      for (const probe of written) {
        const fetched = await fetchProbe(out, probe);
        assert.equal(fetched.exitCode, 0, fetched.stderr);
      }
    });
  }

  it('the first publish of a store, cut short before index.json.sig: readers verify, the next publish heals', async () => {
    const out = join(work, 'store-first');
    const store = new FsStore(out);
    await assert.rejects(publish(failingOnce(store, 'index.json.sig'), 'first'), /ENOSPC/);
    await assert.rejects(stat(join(out, 'index.json.sig')), { code: 'ENOENT' });
    const between = await fetchProbe(out, 'first');
    assert.equal(between.exitCode, 0, between.stderr);
    await publish(store, 'second');
    await assertSignedWith(out, ['first', 'second']);
  });

  it('an index changed by hand is still refused (exit 4): the next signature only covers what a publisher wrote', async () => {
    const out = join(work, 'store-tampered');
    const store = new FsStore(out);
    await publish(store, 'first');
    await assert.rejects(publish(failingOnce(store, 'index.json.sig'), 'second'), /ENOSPC/);
    const bytes = await readFile(join(out, 'index.json'), 'utf8');
    await writeFile(join(out, 'index.json'), bytes.replace('"generator": "test"', '"generator": "evil"'));
    // Agents read index.json where the store has no sharded index (test/loader/index-shards.test.ts tampers with that).
    await rm(join(out, 'index'), { recursive: true });
    const fetched = await fetchProbe(out, 'first');
    assert.equal(fetched.exitCode, 4, fetched.stderr);
    assert.match(fetched.stderr, /does not match/);
    await assert.rejects(publish(store, 'third'), { code: 'E_INDEX_SIGNATURE' });
  });

  it('a signed file that is not a kbuild index is refused with exit 4, as the README says', async () => {
    const out = join(work, 'store-malformed');
    const store = new FsStore(out);
    const bytes = Buffer.from('{"schemaVersion": "nonsense"}\n');
    await store.putBytes('index.json', bytes);
    await store.putBytes('index.json.sig', signIndexBytes(bytes, signingKey));
    const fetched = await fetchProbe(out, 'first');
    assert.equal(fetched.exitCode, 4, fetched.stderr);
    assert.match(fetched.stderr, /not a kbuild index/);
  });
});

describe('a signed publish to S3 (Ceph RGW) whose signature PUT is dropped (slow)', { timeout: 5 * 60_000 }, () => {
  let work: string;
  let keys: { privateKey: string; publicKey: string };
  let signingKey: SigningKey;
  let rgw: Rgw;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-interrupted-s3-'));
    keys = await generateKeyFiles(join(work, 'keys'));
    signingKey = await loadSigningKey(keys.privateKey);
    rgw = await startRgw();
  });
  after(async () => {
    await rgw?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('fetch over S3 accepts the store as the failure left it, and the next publish heals it', async () => {
    const bucket = await rgw.createBucket();
    const url = `s3://${bucket}/farm`;
    const store = await openStore(url, { env: rgw.env });
    try {
      const publish = async (target: ArtifactStore, probe: string) => {
        const artifact = await storeNonCore(target, probe, '6.1.0-50-cloud-amd64', randomBytes(80));
        await writeIndex(target, indexOf([artifact]), { signingKey, env: {} });
      };
      const fetchProbe = (probe: string) =>
        kbuild(['fetch', '--index', url, '--dest', join(work, 'cache'), '--public-key', keys.publicKey, '--probe', probe,
          '--distro', 'debian', '--release', '6.1.0-50-cloud-amd64', '--arch', 'x86_64', '--btf', 'yes'], { env: { ...rgw.env, PATH: process.env['PATH'] ?? '' } });
      await publish(store, 'first');
      await assert.rejects(publish(failingOnce(store, 'index.json.sig'), 'second'), /ENOSPC/);
      const between = await fetchProbe('second');
      assert.equal(between.exitCode, 0, between.stderr);
      await publish(store, 'third');
      const bytes = await store.get('index.json');
      const sig = parseSignature((await store.get('index.json.sig')) ?? Buffer.alloc(0), 'sig');
      assert.equal(sig.indexSha256, sha256Hex(bytes ?? Buffer.alloc(0)));
      assert.deepEqual(parseIndex(String(bytes), 'index').artifacts.map((a) => a.probe).sort(), ['first', 'second', 'third']);
      assert.equal((await fetchProbe('third')).exitCode, 0);
    } finally {
      await store.close();
      await rgw.deleteBucket(bucket);
    }
  });
});
