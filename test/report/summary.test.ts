import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArtifactIndex } from '@kbuild/loader';
import { kernelKey } from '../../src/report/kernels.js';
import { buildMatrix, type MatrixCell } from '../../src/report/matrix.js';
import { summarizeIndex } from '../../src/report/summary.js';
import { fixtureIndex, KERNELS, PROBES } from './report-fixtures.js';

describe('report summary', () => {
  const index = fixtureIndex();

  it('counts kernels, artifacts and failures of each stage', () => {
    const s = summarizeIndex(index);
    assert.equal(s.kernels, Object.keys(KERNELS).length);
    assert.equal(s.probes, PROBES.length);
    // 6 kernels × 2 probes minus the one build failure, plus one CO-RE object per probe and arch.
    assert.equal(s.nonCore, 11);
    assert.equal(s.core, 4);
    assert.equal(s.artifacts, 15);
    assert.deepEqual([s.failures, s.buildFailures, s.verifyFailures], [3, 1, 2]);
    assert.equal(s.unloadableKernels, 0, 'the failed cells still have a CO-RE object to load');
  });

  it('counts QEMU verifications by result and leaves sha256 checks out', () => {
    const s = summarizeIndex(index);
    const qemu = index.artifacts.flatMap((a) => a.verification).filter((v) => v.method === 'qemu');
    assert.equal(s.verified.ok + s.verified.failed + s.verified.notVerifiable, qemu.length);
    assert.equal(s.verified.failed, 2, 'jammy: opensnoop non-core, execve core-external-btf');
    // noble arm64: 2 non-core + 2 probes × 2 CO-RE modes; bullseye: 2 probes × core-kernel-btf.
    assert.equal(s.verified.notVerifiable, 8);
  });

  it('sums each BTF blob once: full vs what the index serves', () => {
    const s = summarizeIndex(index);
    // Both probes' minimized BTF were cut from one full BTF (same sha256): it counts once.
    assert.equal(s.btf.kernels, 1);
    assert.equal(s.btf.fullBytes, 5_800_000);
    assert.equal(s.btf.servedBytes, 1_200 + 2_600);
    assert.ok(Math.abs(s.btf.savedRatio - (1 - 3_800 / 5_800_000)) < 1e-12);
  });

  it('has nothing to save and no division by zero without kernelBtf', () => {
    const s = summarizeIndex({ ...index, kernelBtf: [] });
    assert.deepEqual(s.btf, { kernels: 0, fullBytes: 0, servedBytes: 0, savedRatio: 0 });
  });

  it('reads a schema v1 index (no QEMU entries, no failure stages)', () => {
    const v1 = ArtifactIndex.parse({
      ...index,
      schemaVersion: 1,
      artifacts: index.artifacts.map((a) => ({ ...a, verification: a.verification.filter((v) => v.method === 'sha256') })),
      failures: index.failures.filter((f) => f.stage === 'build').map(({ stage: _stage, ...f }) => f),
    });
    const s = summarizeIndex(v1);
    assert.deepEqual(s.verified, { ok: 0, failed: 0, notVerifiable: 0, inconclusive: 0 });
    assert.deepEqual([s.failures, s.buildFailures, s.verifyFailures], [1, 1, 0]);
  });
});

describe('report matrix', () => {
  const index = fixtureIndex();
  const matrix = buildMatrix(index);
  const cell = (kernel: (typeof KERNELS)[keyof typeof KERNELS], probe: string): MatrixCell => {
    const row = matrix.rows.find((r) => kernelKey(r.kernel) === kernelKey(kernel));
    const found = row?.cells.find((c) => c.probe === probe);
    assert.ok(found, `${kernel.release} × ${probe}`);
    return found;
  };

  it('has a row per kernel, grouped by distro, release in version order, and a column per probe', () => {
    assert.deepEqual(matrix.probes, [...PROBES]);
    assert.deepEqual(
      matrix.rows.map((r) => `${r.kernel.distro} ${r.kernel.release}`),
      [
        'debian 5.10.0-32-cloud-amd64',
        'debian 6.1.0-50-arm64',
        'debian 6.1.0-50-cloud-amd64',
        'debian 6.12.117+deb13-cloud-amd64',
        'ubuntu 5.15.0-100-generic',
        'ubuntu 6.8.0-40-generic',
      ],
    );
  });

  it('joins a build failure to its cell, with the CO-RE object still usable there', () => {
    const c = cell(KERNELS.trixie, 'opensnoop');
    assert.equal(c.status, 'failed');
    assert.equal(c.nonCore.state, 'failed');
    assert.equal(index.failures[c.nonCore.failure ?? -1]?.code, 'E_COMPILE');
    assert.equal(c.core.state, 'kernel-btf');
    assert.deepEqual(c.verify.map((v) => v.state), ['not-run', 'ok', 'ok']);
  });

  it('shows external BTF for a kernel without its own, and QEMU results per mode', () => {
    const c = cell(KERNELS.bullseye, 'execve');
    assert.equal(c.core.state, 'external-btf');
    assert.equal(c.core.btf?.btf.size, 1_200);
    assert.deepEqual(c.verify.map((v) => v.state), ['ok', 'not-verifiable', 'ok']);
    assert.equal(c.status, 'verified');
  });

  it('joins verify failures by kernel and mode', () => {
    const c = cell(KERNELS.jammy, 'execve');
    assert.deepEqual(c.verify.map((v) => v.state), ['ok', 'ok', 'failed']);
    assert.equal(index.failures[c.verify[2]?.failure ?? -1]?.mode, 'core-external-btf');
    assert.equal(c.status, 'failed');
    const other = cell(KERNELS.jammy, 'opensnoop');
    assert.deepEqual(other.verify.map((v) => v.state), ['failed', 'ok', 'ok']);
  });

  it('tells built-but-unverified from verified', () => {
    assert.equal(cell(KERNELS.bookwormArm, 'execve').status, 'built');
    assert.deepEqual(cell(KERNELS.nobleArm, 'execve').verify.map((v) => v.state), ['not-verifiable', 'not-verifiable', 'not-verifiable']);
  });
});
