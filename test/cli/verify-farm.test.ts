import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex } from '../../src/loader/index-schema.js';
import { kbuild } from '../helpers/cli.js';
import { farmFixture, REDIS_URL } from '../helpers/farm.js';
import { KERNEL, writeVerifyFixtures } from '../verify/stage-fixtures.js';

interface StatusJson {
  readonly counts: { done: number; failed: number };
  readonly publish: { state: string };
  readonly jobs: readonly { label: string; state: string; error?: { code: string; message: string }; summary?: string }[];
}

// A real worker builds, then boots the kernel in QEMU as a verify job; publish folds the results into the index.
describe('farm: submit --wait with verification (real Redis and QEMU, slow)', { timeout: 20 * 60 * 1000 }, () => {
  let work: string;
  const farm = farmFixture();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-verify-farm-'));
    await writeVerifyFixtures(work);
  });
  after(async () => {
    await farm.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('a verification failure is reported by submit --wait and status like a failed build, and lands in the index', async () => {
    const q = farm.queue('verify');
    const store = join(work, 'store');
    const worker = await farm.worker(q, {}, ['--concurrency', '2']);
    const submitted = await kbuild(['submit', '--kernels', join(work, 'kernels.yaml'), '--store', store, '--queue', q, '--redis', REDIS_URL, '--wait', '--json'], { verify: true });
    assert.equal(submitted.exitCode, 1, submitted.stderr + submitted.stdout);
    assert.match(submitted.stderr, /4 builds and 1 kernel verifications/);
    const status = JSON.parse(submitted.stdout) as StatusJson;
    assert.equal(status.publish.state, 'published');
    const verifyJob = status.jobs.find((j) => j.label === `verify ${KERNEL.distro}/${KERNEL.release}/${KERNEL.arch}`);
    assert.equal(verifyJob?.state, 'failed');
    assert.equal(verifyJob?.error?.code, 'E_VERIFY_FAILED');
    assert.match(verifyJob?.error?.message ?? '', /broken\/x86_64\/broken_debian_6\.1\.0-50-cloud-amd64\.o \(non-core\)/);
    assert.equal(status.counts.done, 4, 'every build succeeded');
    assert.match(worker.output(), /verifying in debian\/6\.1\.0-50-cloud-amd64\/x86_64/);

    const shown = await kbuild(['status', '--queue', q, '--redis', REDIS_URL]);
    assert.equal(shown.exitCode, 1, 'status exits 1 for a failed verification');
    assert.match(shown.stdout, /verify debian\/6\.1\.0-50-cloud-amd64\/x86_64: FAILED E_VERIFY_FAILED/);

    const index = ArtifactIndex.parse(JSON.parse(await readFile(join(store, 'index.json'), 'utf8')));
    const execve = index.artifacts.filter((a) => a.probe === 'execve').flatMap((a) => a.verification.filter((v) => v.method === 'qemu'));
    assert.deepEqual(execve.map((v) => [v.mode, v.result]).sort(), [['core-external-btf', 'ok'], ['core-kernel-btf', 'ok'], ['non-core', 'ok']]);
    assert.deepEqual(index.failures.map((f) => [f.probe, f.stage, f.mode]).sort(), [
      ['broken', 'verify', 'core-external-btf'],
      ['broken', 'verify', 'core-kernel-btf'],
      ['broken', 'verify', 'non-core'],
    ]);
  });
});
