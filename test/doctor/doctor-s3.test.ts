import assert from 'node:assert/strict';
import { execa } from 'execa';
import { after, before, describe, it } from 'node:test';
import type { CheckResult } from '../../src/doctor/types.js';
import { CLI, REPO_ROOT } from '../helpers/cli.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';

async function storeCheck(store: string, env: Record<string, string>): Promise<{ exitCode: number; check: CheckResult }> {
  const r = await execa(process.execPath, [CLI, 'doctor', '--store', store, '--json'], { cwd: REPO_ROOT, env, reject: false, timeout: 5 * 60 * 1000 });
  const report = JSON.parse(String(r.stdout)) as { checks: CheckResult[] };
  const check = report.checks.find((c) => c.id === 'store');
  assert.ok(check, String(r.stdout));
  return { exitCode: r.exitCode ?? -1, check };
}

describe('kbuild doctor --store s3:// against a real RADOS Gateway (slow on first start)', { timeout: 15 * 60 * 1000 }, () => {
  let rgw: Rgw;
  let bucket: string;
  before(async () => {
    rgw = await startRgw();
    bucket = await rgw.createBucket();
  });
  after(async () => {
    await rgw?.stop();
  });

  it('reaches a bucket with good credentials', async () => {
    const { exitCode, check } = await storeCheck(`s3://${bucket}/artifacts`, rgw.env);
    assert.equal(check.status, 'ok', check.detail);
    assert.match(check.detail, new RegExp(`s3://${bucket}/artifacts at ${rgw.endpoint}: bucket answers, listing works`));
    assert.equal(exitCode, 0);
  });

  it('reports a wrong secret as access denied, naming the credentials', async () => {
    const { exitCode, check } = await storeCheck(`s3://${bucket}`, { ...rgw.env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    assert.equal(exitCode, 1);
    assert.equal(check.status, 'missing');
    assert.match(check.detail, /access denied \(HTTP 403.*credentials are wrong/);
    assert.match(check.fix ?? '', /AWS_SECRET_ACCESS_KEY/);
  });

  it('reports a bucket that does not exist, and missing credentials', async () => {
    const gone = await storeCheck('s3://kbuild-no-such-bucket-0', rgw.env);
    assert.equal(gone.check.status, 'missing');
    assert.match(gone.check.detail, /no such bucket \(HTTP 404\)/);
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...noKeys } = rgw.env;
    const anonymous = await storeCheck(`s3://${bucket}`, noKeys);
    assert.equal(anonymous.exitCode, 1);
    assert.match(anonymous.check.detail, /no S3 credentials/);
  });
});
