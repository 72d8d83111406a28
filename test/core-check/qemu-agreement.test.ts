import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IndexArtifact, IndexCoreCheck } from '@kbuild/loader';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { compareWithQemu } from '../../src/core-check/agreement.js';
import { checkCoreObject, loadCoreObject } from '../../src/core-check/check-object.js';
import { verifyKernel } from '../../src/verify/verify-kernel.js';
import { CHECK_KERNELS, compileFixture, coreArtifact, kernelBtfFile } from './fixtures.js';

// Real QEMU boots (TCG) of Debian 6.1 and 6.12: the prediction for the renamed field is compared with a real load.
describe('offline CO-RE check agrees with QEMU (slow)', { timeout: 20 * 60 * 1000 }, () => {
  let dir: string;
  let artifact: IndexArtifact;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kbuild-core-check-qemu-'));
    const file = await compileFixture('renamed', dir);
    const object = await loadCoreObject(file);
    const base = await coreArtifact('renamed', file);
    const sha256 = createHash('sha256').update(await readFile(file)).digest('hex');
    const coreCheck: IndexCoreCheck[] = [];
    const verification: IndexArtifact['verification'] = [];
    for (const kernel of [CHECK_KERNELS.bookworm, CHECK_KERNELS.trixie]) {
      const predicted = await checkCoreObject(object, await kernelBtfFile(kernel));
      if (predicted.result !== 'compatible' && predicted.result !== 'incompatible') throw new Error('unexpected');
      coreCheck.push({ kernel, result: predicted.result, coreSha256: sha256, detail: predicted.detail });
      const booted = await verifyKernel({
        kernel,
        cases: [{ probe: 'renamed', mode: 'core-kernel-btf', objectFile: file, objectSha256: sha256, artifactPath: base.path, check: {} }],
        timeoutMs: 300_000,
        cacheDir: cacheRoot(),
      });
      assert.equal(booted.outcome, 'completed', booted.consoleTail);
      for (const r of booted.results) {
        verification.push({
          method: 'qemu', result: r.result, kernel, mode: r.case.mode,
          ...(r.detail === undefined ? {} : { detail: r.detail.slice(0, 4096) }),
          ...(r.verifierLog === undefined ? {} : { verifierLog: r.verifierLog.slice(-65536) }),
        });
      }
    }
    artifact = { ...base, coreCheck, verification };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('6.1 loads what was predicted compatible, 6.12 refuses what was predicted incompatible: no disagreement', () => {
    const agreement = compareWithQemu([artifact]);
    assert.equal(agreement.length, 2, JSON.stringify(artifact.verification, null, 2));
    const on = (release: string) => agreement.find((a) => a.kernel.includes(release));
    assert.deepEqual([on('6.1.0')?.predicted, on('6.1.0')?.qemu, on('6.1.0')?.verdict], ['compatible', 'ok', 'agree']);
    assert.deepEqual([on('6.12')?.predicted, on('6.12')?.qemu, on('6.12')?.verdict], ['incompatible', 'failed', 'agree']);
    // The real load failed for the reason predicted: libbpf's poisoned relocation.
    const failed = artifact.verification.find((v) => v.result === 'failed');
    assert.match(`${failed?.detail ?? ''}\n${failed?.verifierLog ?? ''}`, /core_layout|CO-RE relocation|195896080/);
  });
});
