import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostIdentity } from '../src/host.js';
import { ArtifactIndex, type IndexArtifact, type IndexVerification, type VerifyMode } from '../src/index-schema.js';
import { describePick, pick } from '../src/pick.js';

const hash = (c: string): string => c.repeat(64);
const HOST_KERNEL = { distro: 'debian', release: '6.1.0-50-amd64', arch: 'x86_64' as const };
const OTHER_KERNEL = { distro: 'debian', release: '6.12.117+deb13-amd64', arch: 'x86_64' as const };

const qemu = (mode: VerifyMode, result: IndexVerification['result'], kernel = HOST_KERNEL, detail?: string): IndexVerification => ({
  method: 'qemu',
  result,
  kernel,
  mode,
  ...(detail === undefined ? {} : { detail }),
});

function indexWith(exactEntries: IndexVerification[], coreEntries: IndexVerification[], kernelBtf: ArtifactIndex['kernelBtf'] = []): ArtifactIndex {
  const base = { probe: 'execve', size: 100, buildId: hash('b'), toolchain: 'clang 14' };
  const artifacts: IndexArtifact[] = [
    { ...base, path: 'execve/x86_64/execve_debian_6.1.0-50-amd64.o', kind: 'non-core', arch: 'x86_64', kernel: HOST_KERNEL, sha256: hash('a'), verification: [{ method: 'sha256', result: 'ok' }, ...exactEntries] },
    { ...base, path: 'core/x86_64/execve.o', kind: 'core', arch: 'x86_64', kernel: OTHER_KERNEL, sha256: hash('c'), verification: [{ method: 'sha256', result: 'ok' }, ...coreEntries] },
  ];
  return ArtifactIndex.parse({ schemaVersion: 2, generatedAt: '2026-11-25T00:00:00Z', generator: 'test', artifacts, failures: [], kernelBtf });
}

const host = (fields: Partial<HostIdentity> = {}): HostIdentity => ({ ...HOST_KERNEL, version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1', hasBtf: true, ...fields });

const externalBtf: ArtifactIndex['kernelBtf'] = [
  {
    kernel: HOST_KERNEL,
    objects: [
      {
        probe: 'execve',
        core: 'core/x86_64/execve.o',
        coreSha256: hash('c'),
        kind: 'minimized',
        btf: { path: `btf/${hash('d')}.btf`, size: 10, sha256: hash('d') },
        source: { kind: 'image', size: 100, sha256: hash('e') },
        relocationCheck: { result: 'ok', relocations: 3 },
      },
    ],
  },
];

describe('pick and QEMU verification', () => {
  it('passes over an exact build that failed to load in this kernel and falls back to CO-RE, saying why', () => {
    const result = pick(indexWith([qemu('non-core', 'failed', HOST_KERNEL, 'libbpf: prog: -EACCES')], []), host(), 'execve');
    assert.equal(result.choice?.artifact.path, 'core/x86_64/execve.o');
    assert.equal(result.choice?.mode, 'core');
    const exact = result.rejected.find((r) => r.kind === 'non-core');
    assert.match(exact?.reason ?? '', /failed QEMU verification in debian 6\.1\.0-50-amd64 x86_64 \(non-core\): libbpf: prog: -EACCES/);
    assert.match(result.choice?.reason ?? '', /exact build was rejected/);
  });

  it('ignores failures in other kernels and other modes', () => {
    const result = pick(indexWith([qemu('non-core', 'failed', OTHER_KERNEL)], [qemu('core-external-btf', 'failed')]), host(), 'execve');
    assert.equal(result.choice?.mode, 'non-core');
    const core = pick(indexWith([qemu('non-core', 'failed')], [qemu('core-external-btf', 'failed')]), host(), 'execve');
    assert.equal(core.choice?.mode, 'core', 'the kernel has BTF: the external-BTF failure does not apply');
  });

  it('refuses the CO-RE object with external BTF when that mode failed here', () => {
    const result = pick(indexWith([qemu('non-core', 'failed')], [qemu('core-external-btf', 'failed', HOST_KERNEL, 'counter stayed 0 after 5 execve')], externalBtf), host({ hasBtf: false }), 'execve');
    assert.equal(result.choice, undefined);
    assert.match(result.rejected.find((r) => r.kind === 'core')?.reason ?? '', /core-external-btf\): counter stayed 0/);
    assert.match(describePick(result), /no artifact of probe "execve" can run on this host/);
  });

  it('with requireVerified takes only what passed in this kernel and mode', () => {
    const okExact = pick(indexWith([qemu('non-core', 'ok')], []), host(), 'execve', { requireVerified: true });
    assert.equal(okExact.choice?.mode, 'non-core');
    assert.match(okExact.choice?.reason ?? '', /verified in QEMU on this kernel/);

    // Verified elsewhere only: the exact build is not enough; the CO-RE object passed here with the kernel's BTF.
    const fallback = pick(indexWith([qemu('non-core', 'ok', OTHER_KERNEL)], [qemu('core-kernel-btf', 'ok')]), host(), 'execve', { requireVerified: true });
    assert.equal(fallback.choice?.mode, 'core');
    assert.match(fallback.rejected.find((r) => r.kind === 'non-core')?.reason ?? '', /no ok QEMU verification for debian 6\.1\.0-50-amd64 x86_64 in mode non-core.*the index lists none/);

    const external = pick(indexWith([], [qemu('core-external-btf', 'ok')], externalBtf), host({ hasBtf: false }), 'execve', { requireVerified: true });
    assert.equal(external.choice?.mode, 'core+external-btf');
  });

  it('never refuses an artifact whose verification was inconclusive; requireVerified treats it as unproven', () => {
    const entries = [qemu('non-core', 'inconclusive', HOST_KERNEL, 'timed out after 300 s: the guest did not boot (no uname line)')];
    const result = pick(indexWith(entries, []), host(), 'execve');
    assert.equal(result.choice?.mode, 'non-core', 'an emulator limit is no outage on real hosts');
    const required = pick(indexWith(entries, []), host(), 'execve', { requireVerified: true });
    assert.notEqual(required.choice?.mode, 'non-core');
    assert.match(required.rejected.find((r) => r.kind === 'non-core')?.reason ?? '', /inconclusive, so it is unproven: timed out after 300 s/);
  });

  it('with requireVerified names what is missing when nothing qualifies', () => {
    const result = pick(indexWith([qemu('non-core', 'not-verifiable', HOST_KERNEL, 'no QEMU for x86_64')], []), host(), 'execve', { requireVerified: true });
    assert.equal(result.choice, undefined);
    assert.match(result.needs ?? '', /ok QEMU verification for debian 6\.1\.0-50-amd64 x86_64/);
    assert.match(result.rejected.find((r) => r.kind === 'non-core')?.reason ?? '', /not verifiable: no QEMU for x86_64/);
    assert.match(result.rejected.find((r) => r.kind === 'core')?.reason ?? '', /in mode core-kernel-btf/);
    // Without the requirement, an unverified artifact is still chosen: only failures exclude.
    assert.equal(pick(indexWith([], []), host(), 'execve').choice?.mode, 'non-core');
  });
});
