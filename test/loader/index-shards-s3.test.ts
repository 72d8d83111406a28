import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { fetchArtifacts, type HostIdentity } from '@kbuild/loader';
import { onTransfer } from '@kbuild/loader/internal';
import { writeIndex } from '../../src/runner/write-index.js';
import { generateKeyFiles, loadSigningKey } from '../../src/sign/signing-key.js';
import { openStore } from '../../src/store/open-store.js';
import { fleetIndex, storeFleetBlobs } from '../helpers/fleet-index.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';

describe('sharded index on a real S3 server (Ceph RGW) (slow)', { timeout: 5 * 60_000 }, () => {
  let work: string;
  let rgw: Rgw;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-shards-s3-'));
    rgw = await startRgw();
  });
  after(async () => {
    await rgw?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('an agent gets its object through the manifest and its shard, and refuses a tampered shard', async () => {
    const keys = await generateKeyFiles(join(work, 'keys'));
    const bucket = await rgw.createBucket();
    const location = `s3://${bucket}/fleet`;
    const store = await openStore(location, { env: rgw.env });
    const fleet = fleetIndex(24, ['execve']);
    try {
      await storeFleetBlobs(store, fleet);
      await writeIndex(store, fleet.index, { signingKey: await loadSigningKey(keys.privateKey), env: {} });
    } finally {
      await store.close();
    }
    const k = fleet.kernels[4];
    assert.ok(k !== undefined && !k.hasBtf);
    const host: HostIdentity = { distro: k.distro, release: k.release, arch: k.arch, version: '#1 SMP Debian', hasBtf: false };
    const options = { index: location, dest: join(work, 'dest'), host, publicKey: await readFile(keys.publicKey), preferCore: true, env: rgw.env };
    const downloads: string[] = [];
    const stop = onTransfer((e) => {
      if (e.direction === 'download' && e.phase === 'end') downloads.push(e.target.slice(`${location}/`.length));
    });
    let result;
    try {
      result = await fetchArtifacts(options);
    } finally {
      stop();
    }
    assert.equal(result.via, 'shards');
    assert.equal(result.probes[0]?.pick.choice?.mode, 'core+external-btf');
    assert.ok(!downloads.includes('index.json'), downloads.join(', '));
    assert.deepEqual(downloads.filter((d) => !d.startsWith('index')), ['core/x86_64/execve.o', result.probes[0]?.btf?.key]);
    const shard = downloads.find((d) => d.startsWith('index/shards/'));
    assert.ok(shard !== undefined);

    // Another kernel's shard put in its place: the manifest's sha256 does not match.
    const other = (await fetchArtifacts({ ...options, host: { ...host, release: fleet.kernels[0]?.release ?? '', hasBtf: true }, dest: join(work, 'dest2') })).indexReads.find((r) => r.key.startsWith('index/shards/'));
    assert.ok(other !== undefined && other.key !== shard);
    const s3 = await openStore(location, { env: rgw.env });
    try {
      const bytes = await s3.get(other.key);
      assert.ok(bytes !== undefined);
      await rgw.client.send(new PutObjectCommand({ Bucket: bucket, Key: `fleet/${shard}`, Body: bytes }));
    } finally {
      await s3.close();
    }
    await assert.rejects(fetchArtifacts({ ...options, dest: join(work, 'dest3') }), { code: 'E_SHARD_INTEGRITY' });
  });
});
