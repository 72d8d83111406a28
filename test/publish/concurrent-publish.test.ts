import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKeyFiles } from '../../src/sign/signing-key.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { assertSignedAndComplete } from '../helpers/store-check.js';

const PUBLISHERS = 10;
const EACH = 4;
const REDIS = process.env['KBUILD_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Every publisher is its own process with its own store client: nothing is shared but the store and the lock. */
async function runPublishers(storeUrl: string, key: string, env: Record<string, string>, redis?: string): Promise<void> {
  const script = join(REPO_ROOT, 'test/publish/publisher.ts');
  const runs = Array.from({ length: PUBLISHERS }, (_, id) =>
    execa('node', ['--import', 'tsx', script, storeUrl, String(id), String(EACH), key, ...(redis === undefined ? [] : [redis])], {
      cwd: REPO_ROOT,
      env,
      reject: false,
    }),
  );
  for (const run of await Promise.all(runs)) assert.equal(run.exitCode, 0, `${run.stderr}`);
}

async function assertComplete(storeUrl: string, publicKeyPath: string, env: NodeJS.ProcessEnv): Promise<void> {
  const expected = Array.from({ length: PUBLISHERS }, (_, id) => Array.from({ length: EACH }, (_, i) => `p${id}/x86_64/p${id}_debian_6.1.0-${i}-amd64.o`)).flat();
  await assertSignedAndComplete(storeUrl, publicKeyPath, env, expected);
}

describe(`${PUBLISHERS} concurrent publishers`, { timeout: 10 * 60_000 }, () => {
  let work: string;
  let keys: { privateKey: string; publicKey: string };
  let rgw: Rgw;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-publish-'));
    keys = await generateKeyFiles(join(work, 'keys'));
    rgw = await startRgw();
  });
  after(async () => {
    await rgw?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('on one S3 bucket, serialized by a Redis lock: the signed index holds every artifact', async () => {
    const bucket = await rgw.createBucket();
    const url = `s3://${bucket}/farm`;
    await runPublishers(url, keys.privateKey, { ...rgw.env, PATH: process.env['PATH'] ?? '' }, REDIS);
    await assertComplete(url, keys.publicKey, rgw.env);
    await rgw.deleteBucket(bucket);
  });

  it('on one filesystem store, serialized by its lock file', async () => {
    const out = join(work, 'fs-store');
    await runPublishers(out, keys.privateKey, { PATH: process.env['PATH'] ?? '' });
    await assertComplete(out, keys.publicKey, {});
  });
});
