import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import type { Arch } from '../../src/kernel/identity.js';
import type { VerifyMode } from '../../src/loader/index-schema.js';
import { liveBoots } from '../../src/verify/qemu-process.js';
import type { VerifyKernelResult } from '../../src/verify/types.js';
import { verifyKernel } from '../../src/verify/verify-kernel.js';
import { buildArtifacts, CHECK, groupRuns, KERNELS, verifyCase } from './engine-fixtures.js';

const MODES: readonly VerifyMode[] = ['non-core', 'core-kernel-btf', 'core-external-btf'];

// Real Debian kernels booted under QEMU (TCG), one boot per arch with every case in it.
describe('verify engine: real Debian kernels in QEMU (slow)', { timeout: 20 * 60 * 1000 }, () => {
  let work: string;
  let out: string;
  const groups: number[] = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-verify-engine-'));
    out = await buildArtifacts(work);
  });
  after(() => rm(work, { recursive: true, force: true }));

  const boot = async (arch: Arch, withBroken: boolean): Promise<VerifyKernelResult> => {
    const kernel = KERNELS[arch];
    const cases = await Promise.all(MODES.map((mode) => verifyCase(out, 'execve', kernel, mode)));
    if (withBroken) cases.push(await verifyCase(out, 'broken', kernel, 'non-core'), await verifyCase(out, 'broken', kernel, 'core-kernel-btf'));
    return verifyKernel({ kernel, cases, timeoutMs: 180_000, cacheDir: cacheRoot() }, { onQemuStart: (pid) => groups.push(pid) });
  };

  const assertExecveOk = (result: VerifyKernelResult, arch: Arch): void => {
    assert.equal(result.outcome, 'completed', result.consoleTail);
    assert.equal(result.bootedRelease, KERNELS[arch].release, 'the guest ran the kernel asked for');
    for (const mode of MODES) {
      const got = result.results.find((r) => r.case.probe === 'execve' && r.case.mode === mode);
      assert.ok(got !== undefined, mode);
      assert.equal(got.result, 'ok', `${arch} ${mode}: ${got.detail ?? ''}\n${got.verifierLog ?? ''}`);
      assert.ok((got.events ?? 0) >= CHECK.event.count, `${arch} ${mode}: the probe saw the execve calls (${got.events})`);
      assert.match(got.verifyId, /^[0-9a-f]{64}$/);
      if (mode === 'core-external-btf') {
        assert.match(got.btfSha256 ?? '', /^[0-9a-f]{64}$/, 'the BTF the engine cut is named');
        assert.match(got.detail ?? '', /cut from the kernel image/);
      }
    }
    const ids = new Set(result.results.map((r) => r.verifyId));
    assert.equal(ids.size, result.results.length, 'every (object, mode) has its own verifyId');
  };

  it('x86_64: all three modes load, attach and count execve; a program the verifier rejects fails with its log', async () => {
    const result = await boot('x86_64', true);
    assertExecveOk(result, 'x86_64');
    for (const mode of ['non-core', 'core-kernel-btf'] as const) {
      const broken = result.results.find((r) => r.case.probe === 'broken' && r.case.mode === mode);
      assert.equal(broken?.result, 'failed', `broken ${mode} must fail`);
      assert.match(broken?.detail ?? '', /load failed/);
      // The 6.1 verifier's own words about the unbounded index into the map value.
      assert.match(broken?.verifierLog ?? '', /R\d+ unbounded memory access|invalid access to map value|value is outside of the allowed memory range/);
      assert.match(broken?.verifierLog ?? '', /BEGIN PROG LOAD LOG/, 'libbpf printed the kernel verifier log');
    }
  });

  it('arm64: all three modes load, attach and count execve', async () => {
    assertExecveOk(await boot('arm64', false), 'arm64');
  });

  it('leaves no QEMU behind', async () => {
    assert.equal(groups.length, 2);
    assert.deepEqual(liveBoots(), []);
    for (const pgid of groups) assert.equal(await groupRuns(pgid), false, `process group ${pgid} is gone`);
  });
});
