import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { distroFromOsRelease, parseOsRelease, type HostIdentity } from '../src/host.js';
import { ArtifactIndex, type IndexArtifact } from '../src/index-schema.js';
import { describePick, pick, versionMatches } from '../src/pick.js';
import { KbuildError, LoaderErrorCode, UnknownProbeError } from '../src/errors.js';

const hash = (c: string): string => c.repeat(64);

function artifact(fields: Partial<IndexArtifact> & Pick<IndexArtifact, 'path' | 'kind' | 'arch' | 'kernel'>): IndexArtifact {
  return { probe: 'execve', size: 100, sha256: hash('a'), buildId: hash('b'), toolchain: 'clang 14', verification: [], ...fields };
}

const index: ArtifactIndex = ArtifactIndex.parse({
  schemaVersion: 1,
  generatedAt: '2026-11-25T00:00:00Z',
  generator: 'test',
  artifacts: [
    artifact({ path: 'execve/x86_64/execve_debian_6.1.0-50-amd64.o', kind: 'non-core', arch: 'x86_64', kernel: { distro: 'debian', release: '6.1.0-50-amd64', arch: 'x86_64' } }),
    artifact({ path: 'execve/arm64/execve_debian_6.1.0-50-arm64.o', kind: 'non-core', arch: 'arm64', kernel: { distro: 'debian', release: '6.1.0-50-arm64', arch: 'arm64' } }),
    artifact({ path: 'core/x86_64/execve.o', kind: 'core', arch: 'x86_64', kernel: { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' } }),
    artifact({ path: 'core/arm64/execve.o', kind: 'core', arch: 'arm64', kernel: { distro: 'debian', release: '6.1.0-50-arm64', arch: 'arm64' } }),
  ],
});

const host = (fields: Partial<HostIdentity>): HostIdentity => ({
  distro: 'debian',
  release: '6.1.0-50-amd64',
  version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1',
  arch: 'x86_64',
  hasBtf: true,
  ...fields,
});

describe('pick', () => {
  it('prefers the exact non-CO-RE build and says why CO-RE was passed over', () => {
    const result = pick(index, host({}), 'execve');
    assert.equal(result.choice?.mode, 'non-core');
    assert.equal(result.choice?.artifact.path, 'execve/x86_64/execve_debian_6.1.0-50-amd64.o');
    const core = result.rejected.find((r) => r.path === 'core/x86_64/execve.o');
    assert.match(core?.reason ?? '', /exact non-CO-RE match/);
    assert.match(result.rejected.find((r) => r.path.includes('arm64'))?.reason ?? '', /built for arm64, host is x86_64/);
  });

  it('falls back to CO-RE on an unknown kernel with BTF', () => {
    const result = pick(index, host({ release: '6.18.44-custom' }), 'execve');
    assert.equal(result.choice?.mode, 'core');
    assert.equal(result.choice?.artifact.path, 'core/x86_64/execve.o');
    assert.match(result.rejected[0]?.reason ?? '', /built for debian 6.1.0-50-amd64, host runs debian 6.18.44-custom/);
  });

  it('picks per arch', () => {
    assert.equal(pick(index, host({ arch: 'arm64', release: '6.1.0-50-arm64' }), 'execve').choice?.artifact.path, 'execve/arm64/execve_debian_6.1.0-50-arm64.o');
    assert.equal(pick(index, host({ arch: 'arm64', release: '6.2.0' }), 'execve').choice?.artifact.path, 'core/arm64/execve.o');
  });

  it('says which external BTF it would need on a kernel without BTF', () => {
    const result = pick(index, host({ release: '5.4.0-1-amd64', hasBtf: false }), 'execve');
    assert.equal(result.choice, undefined);
    assert.equal(result.needs, 'an external BTF for debian 5.4.0-1-amd64 x86_64 (the index lists no external BTF for this kernel)');
    assert.match(describePick(result), /no artifact of probe "execve" can run on this host: needs an external BTF/);
  });

  it('does not take a build of another distro with the same release', () => {
    const result = pick(index, host({ distro: 'ubuntu' }), 'execve');
    assert.equal(result.choice?.mode, 'core');
  });

  it('refuses a probe the index does not have with E_UNKNOWN_PROBE, not as an unsupported kernel', () => {
    assert.throws(() => pick(index, host({}), 'opensnoop'), (err: unknown) => {
      assert.ok(err instanceof UnknownProbeError && err instanceof KbuildError);
      assert.equal(err.code, LoaderErrorCode.UNKNOWN_PROBE);
      assert.equal(err.code, 'E_UNKNOWN_PROBE');
      assert.equal(err.exitCode, 2);
      assert.deepEqual(err.known, ['execve']);
      assert.match(err.message, /no probe "opensnoop" \(it lists execve\)/);
      return true;
    });
    // A typo gets the nearest name.
    assert.throws(() => pick(index, host({}), 'exceve'), (err: unknown) => err instanceof UnknownProbeError && /Did you mean "execve"/.test(err.suggestions.join('')));
  });
});

describe('pick with external BTF', () => {
  const core = index.artifacts.find((a) => a.path === 'core/x86_64/execve.o');
  const blob = (c: string) => ({ path: `btf/${hash(c)}.btf`, size: 549, sha256: hash(c) });
  const object = (fields: Record<string, unknown>) => ({
    probe: 'execve',
    core: 'core/x86_64/execve.o',
    coreSha256: core?.sha256,
    kind: 'minimized',
    btf: blob('c'),
    source: { kind: 'dbg', size: 4_000_000, sha256: hash('d') },
    relocationCheck: { result: 'ok', relocations: 646 },
    ...fields,
  });
  const withBtf = (objects: unknown[]) =>
    ArtifactIndex.parse({ ...index, kernelBtf: [{ kernel: { distro: 'debian', release: '5.4.0-1-amd64', arch: 'x86_64' }, objects }] });
  const noBtf = host({ release: '5.4.0-1-amd64', hasBtf: false });

  it('takes CO-RE with the minimized BTF the index lists for this kernel', () => {
    const result = pick(withBtf([object({})]), noBtf, 'execve');
    assert.equal(result.choice?.mode, 'core+external-btf');
    assert.deepEqual(result.choice?.btf, { ...blob('c'), kind: 'minimized' });
    assert.match(result.choice?.reason ?? '', /minimized BTF from the debug package .*646 identical/);
    assert.ok(describePick(result).includes(`btf btf/${hash('c')}.btf [minimized, 549 bytes`), describePick(result));
  });

  it('falls back to the full BTF only when no minimized one exists, and says so', () => {
    const full = object({ kind: 'full', btf: blob('e'), relocationCheck: { result: 'failed', relocations: 646, detail: 'relo #3 differs' } });
    const result = pick(withBtf([full]), noBtf, 'execve');
    assert.equal(result.choice?.btf?.kind, 'full');
    assert.match(result.choice?.reason ?? '', /no minimized BTF exists \(relo #3 differs\); falling back to the full BTF/);
  });

  it('refuses a BTF cut for another build of the CO-RE object, and names what is missing', () => {
    const result = pick(withBtf([object({ coreSha256: hash('f') })]), noBtf, 'execve');
    assert.equal(result.choice, undefined);
    assert.match(result.needs ?? '', /cut for another build of core\/x86_64\/execve\.o/);
    const other = pick(withBtf([object({ probe: 'opensnoop' })]), noBtf, 'execve');
    assert.match(other.needs ?? '', /none for core\/x86_64\/execve\.o/);
  });

  it('with preferCore, passes over the exact build for CO-RE and its external BTF', () => {
    const both = withBtf([object({})]);
    const exactHost = host({ release: '6.1.0-50-amd64', hasBtf: false });
    const indexWithExact = ArtifactIndex.parse({
      ...both,
      kernelBtf: [{ ...both.kernelBtf[0]!, kernel: { distro: 'debian', release: '6.1.0-50-amd64', arch: 'x86_64' } }],
    });
    assert.equal(pick(indexWithExact, exactHost, 'execve').choice?.mode, 'non-core');
    const preferred = pick(indexWithExact, exactHost, 'execve', { preferCore: true });
    assert.equal(preferred.choice?.mode, 'core+external-btf');
    assert.ok(preferred.rejected.some((r) => r.kind === 'non-core' && /prefer-core/.test(r.reason)), describePick(preferred));
    // With the kernel's own BTF, the reason names the choice, not a missing exact build.
    const withKernelBtf = pick(indexWithExact, { ...exactHost, hasBtf: true }, 'execve', { preferCore: true });
    assert.equal(withKernelBtf.choice?.mode, 'core');
    assert.match(withKernelBtf.choice?.reason ?? '', /CO-RE was asked for over the exact build/);
    assert.doesNotMatch(withKernelBtf.choice?.reason ?? '', /no exact build/);
    // Nothing CO-RE for the arch: the exact build is still taken rather than nothing.
    const noCore = ArtifactIndex.parse({ ...indexWithExact, artifacts: indexWithExact.artifacts.filter((a) => a.kind !== 'core') });
    assert.equal(pick(noCore, exactHost, 'execve', { preferCore: true }).choice?.mode, 'non-core');
  });

  it('still prefers the kernel\'s own BTF when it has one', () => {
    assert.equal(pick(withBtf([object({})]), host({ release: '5.4.0-1-amd64' }), 'execve').choice?.mode, 'core');
  });
});

describe('kernel version matching', () => {
  it('treats a bare number as the build number of uname -v, like driverkit', () => {
    assert.equal(versionMatches('1', '#1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1 (2025-11-01)'), true);
    assert.equal(versionMatches('1', '#14 SMP Debian 6.1.176-1'), false, 'not a substring match');
    assert.equal(versionMatches('#94', '#94-Ubuntu SMP Fri Jun 7 2024'), true);
  });

  it('matches other versions as a part of uname -v, and rejects the exact build otherwise', () => {
    assert.equal(versionMatches('6.1.176-1', '#1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1 (2025-11-01)'), true);
    const versioned = ArtifactIndex.parse({ ...index, artifacts: index.artifacts.map((a) => (a.kind === 'non-core' ? { ...a, kernel: { ...a.kernel, version: '6.1.170-1' } } : a)) });
    const result = pick(versioned, host({}), 'execve');
    assert.equal(result.choice?.mode, 'core');
    assert.match(result.rejected[0]?.reason ?? '', /built for kernel version "6\.1\.170-1"/);
  });
});

describe('host identity', () => {
  it('maps os-release IDs to index distros', () => {
    assert.equal(distroFromOsRelease(parseOsRelease('ID=debian\nVERSION_ID="12"\n')), 'debian');
    assert.equal(distroFromOsRelease(parseOsRelease('ID="almalinux"\nID_LIKE="rhel centos fedora"\n')), 'almalinux');
    assert.equal(distroFromOsRelease(parseOsRelease('ID=linuxmint\nID_LIKE=ubuntu\n')), 'ubuntu');
  });
});
