import assert from 'node:assert/strict';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseIndex } from '@kbuild/loader/internal';
import { openStore } from '../../src/store/open-store.js';
import { kbuild, REPO_ROOT, type CliResult } from '../helpers/cli.js';
import { threeDebianKernels } from '../helpers/kernel-sets.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { assertSignedAndComplete } from '../helpers/store-check.js';

const PUBLISHERS = 4;
const REDIS = process.env['KBUILD_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Publisher i builds probe p<i> (the execve probe under another name) for the shared three-kernel set: five entries of its own. */
const entriesOf = (i: number): string[] => [
  `core/arm64/p${i}.o`,
  `core/x86_64/p${i}.o`,
  `p${i}/arm64/p${i}_debian_6.1.0-50-arm64.o`,
  `p${i}/x86_64/p${i}_debian_6.1.0-50-cloud-amd64.o`,
  `p${i}/x86_64/p${i}_debian_6.12.117+deb13-cloud-amd64.o`,
];
const ALL = Array.from({ length: PUBLISHERS }, (_, i) => entriesOf(i)).flat();

/**
 * Four `kbuild build` processes publishing to one S3 bucket (Ceph RGW, which
 * does not enforce conditional PUTs) at the same time, as four CI jobs would.
 */
describe(`${PUBLISHERS} concurrent kbuild build publishers on one S3 store (slow)`, { timeout: 20 * 60_000 }, () => {
  let work: string;
  let rgw: Rgw;

  const publishAll = (store: string, extra: (i: number) => string[], ids = Array.from({ length: PUBLISHERS }, (_, i) => i)): Promise<CliResult[]> =>
    Promise.all(ids.map((i) => kbuild(['build', '--kernels', join(work, `p${i}.yaml`), '--out', store, '--concurrency', '1', ...extra(i)], { env: rgw.env })));

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-concurrent-builds-'));
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    for (let i = 0; i < PUBLISHERS; i++) await writeFile(join(work, `p${i}.yaml`), threeDebianKernels().replace('- name: execve', `- name: p${i}`));
    const keygen = await kbuild(['keygen', '--out', join(work, 'keys')]);
    assert.equal(keygen.exitCode, 0, keygen.stderr);
    rgw = await startRgw();
  });
  after(async () => {
    await rgw?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('with a Redis lock: every publisher exits 0 and the signed index holds every entry', async () => {
    const bucket = await rgw.createBucket();
    const store = `s3://${bucket}/farm`;
    const results = await publishAll(store, () => ['--redis', REDIS, '--signing-key', join(work, 'keys/kbuild-index.key')]);
    for (const r of results) assert.equal(r.exitCode, 0, r.stderr);
    await assertSignedAndComplete(store, join(work, 'keys/kbuild-index.pub'), rgw.env, ALL);
  });

  it('without a lock and without --unlocked: all four are refused up front (exit 2) and nothing reaches the bucket', async () => {
    const bucket = await rgw.createBucket();
    const results = await publishAll(`s3://${bucket}/farm`, () => []);
    for (const r of results) {
      assert.equal(r.exitCode, 2, r.stderr);
      assert.match(r.stderr, /E_PUBLISH_UNLOCKED|refusing to publish/);
    }
    const listed = await rgw.client.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.equal(listed.KeyCount ?? 0, 0, 'refused before any upload');
  });

  it('--unlocked: a publisher whose entries a concurrent one dropped exits 1 naming them; the rest exit 0 with theirs listed; a locked rerun completes the index', async () => {
    const bucket = await rgw.createBucket();
    const store = `s3://${bucket}/farm`;
    const results = await publishAll(store, () => ['--unlocked']);
    const s3 = await openStore(store, { env: rgw.env });
    let listed: string[];
    try {
      const bytes = await s3.get('index.json');
      assert.ok(bytes !== undefined);
      const index = parseIndex(bytes.toString('utf8'), 'index');
      listed = index.artifacts.map((a) => a.path);
      for (const a of index.artifacts) assert.equal((await s3.stat(a.path))?.size, a.size, `${a.path}: the index lists only stored objects`);
    } finally {
      await s3.close();
    }
    const losers: number[] = [];
    let reported = 0;
    results.forEach((r, i) => {
      const missing = entriesOf(i).filter((path) => !listed.includes(path));
      if (missing.length === 0) {
        assert.equal(r.exitCode, 0, `p${i}: all its entries are listed\n${r.stderr}`);
        return;
      }
      // The loss is the publisher's failure, with its count, never a silent exit 0.
      assert.equal(r.exitCode, 1, `p${i} lost ${missing.join(', ')} but exited ${r.exitCode}\n${r.stderr}`);
      assert.match(r.stderr, new RegExp(`E_INDEX_ENTRIES_LOST: ${missing.length} of 5 index entries this build published to s3://\\S+ were dropped by a concurrent publisher`));
      assert.match(r.stderr, /publish again with --redis URL/);
      losers.push(i);
      reported += missing.length;
    });
    process.stderr.write(`# --unlocked: ${reported} of ${ALL.length} entries dropped and reported by ${losers.length} publishers\n`);
    // What the losers were told to do: their objects are stored, so a locked rerun builds nothing and lists them.
    const reruns = await publishAll(store, () => ['--redis', REDIS], losers);
    for (const r of reruns) assert.equal(r.exitCode, 0, r.stderr);
    const s3b = await openStore(store, { env: rgw.env });
    try {
      const index = parseIndex((await s3b.get('index.json'))!.toString('utf8'), 'index');
      assert.deepEqual(index.artifacts.map((a) => a.path).sort(), [...ALL].sort());
    } finally {
      await s3b.close();
    }
  });
});
