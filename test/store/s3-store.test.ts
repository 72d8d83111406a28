import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/store/open-store.js';
import type { ArtifactStore } from '../../src/store/types.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';

describe('S3 store against Ceph RGW', { timeout: 5 * 60_000 }, () => {
  let rgw: Rgw;
  let bucket: string;
  let store: ArtifactStore;
  let work: string;

  before(async () => {
    rgw = await startRgw();
    bucket = await rgw.createBucket();
    // Settings from the standard AWS variables alone, as a CI job would pass them.
    store = await openStore(`s3://${bucket}/some/prefix/`, { env: rgw.env });
    work = await mkdtemp(join(tmpdir(), 'kbuild-s3-store-'));
  });
  after(async () => {
    await store?.close();
    await rgw?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('puts bytes and files under the prefix, reads and stats them back, and answers undefined for a missing key', async () => {
    assert.equal(store.location, `s3://${bucket}/some/prefix`);
    await store.putBytes('execve/x86_64/execve_debian_6.12.117+deb13-cloud-amd64.o', Buffer.from('object'));
    const file = join(work, 'btf');
    await writeFile(file, Buffer.alloc(70_000, 7));
    await store.putFile('core/x86_64/execve.o', file);
    assert.equal((await store.get('execve/x86_64/execve_debian_6.12.117+deb13-cloud-amd64.o'))?.toString(), 'object');
    assert.deepEqual(await store.stat('core/x86_64/execve.o'), { size: 70_000 });
    assert.equal(await store.get('missing.o'), undefined);
    assert.equal(await store.stat('missing.o'), undefined);
    // The prefix is part of every key: the same store name without it sees nothing.
    const root = await openStore(`s3://${bucket}`, { env: rgw.env });
    assert.equal(await root.stat('core/x86_64/execve.o'), undefined);
    assert.deepEqual(await root.stat('some/prefix/core/x86_64/execve.o'), { size: 70_000 });
    await root.close();
  });

  it('refuses unsafe keys and bad URLs before any request', async () => {
    await assert.rejects(store.putBytes('../escape.o', Buffer.from('x')), { code: 'E_STORE_KEY' });
    await assert.rejects(openStore('s3://x/prefix'), { code: 'E_CONFIG' });
    await assert.rejects(openStore('s3://bucket/a/../b'), { code: 'E_CONFIG' });
  });

  it('reports a wrong secret as an S3 error naming the object', async () => {
    const bad = await openStore(`s3://${bucket}`, { env: { ...rgw.env, AWS_SECRET_ACCESS_KEY: 'wrong' } });
    await assert.rejects(bad.putBytes('x.o', Buffer.from('x')), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'E_S3');
      assert.match(err.message, new RegExp(`PUT s3://${bucket}/x\\.o failed: .*HTTP 403`));
      return true;
    });
    await bad.close();
  });
});
