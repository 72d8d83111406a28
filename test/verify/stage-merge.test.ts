import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArtifactIndex, type IndexArtifact, type IndexVerification, type VerifyMode } from '../../src/loader/index-schema.js';
import { mergeIndex } from '../../src/publish/merge-index.js';
import { applyVerification } from '../../src/verify/stage/apply-index.js';
import type { KernelOutcome } from '../../src/verify/stage/outcome.js';

const hash = (c: string): string => c.repeat(64);
const K1 = { distro: 'debian', release: '6.1.0-50-amd64', arch: 'x86_64' as const };
const K2 = { distro: 'debian', release: '6.12.117+deb13-amd64', arch: 'x86_64' as const };

const core = (sha: string, verification: IndexVerification[] = []): IndexArtifact => ({
  path: 'core/x86_64/execve.o', probe: 'execve', kind: 'core', arch: 'x86_64', kernel: K1, size: 1, sha256: hash(sha), buildId: hash('b'), toolchain: 't',
  verification: [{ method: 'sha256', result: 'ok' }, ...verification],
});
const index = (artifacts: IndexArtifact[], failures: ArtifactIndex['failures'] = []): ArtifactIndex =>
  ArtifactIndex.parse({ schemaVersion: 2, generatedAt: 'now', generator: 'test', artifacts, failures });

/** What the verify stage reports for the CO-RE object in one kernel and mode. */
function outcome(kernel: typeof K1, mode: VerifyMode, result: IndexVerification['result'], sha = 'a'): KernelOutcome {
  const entry: IndexVerification = { method: 'qemu', result, kernel, mode, ...(result === 'failed' ? { detail: 'libbpf: failed to load', verifierLog: 'R1 invalid mem access' } : { events: 5 }) };
  return { kernel, status: 'completed', booted: true, seconds: 3, cases: [{ probe: 'execve', mode, artifactPath: 'core/x86_64/execve.o', artifactSha256: hash(sha), kind: 'core', arch: 'x86_64', entry, cached: false }] };
}

describe('verification in the index and merging', () => {
  it('adds one qemu entry per kernel and mode beside the sha256 entry, and a verify failure with the verifier log', () => {
    const out = applyVerification(index([core('a')]), [outcome(K1, 'core-kernel-btf', 'ok'), outcome(K2, 'core-kernel-btf', 'failed')]);
    const v = out.artifacts[0]!.verification;
    assert.deepEqual(v.map((e) => [e.method, e.kernel?.release, e.result]), [['sha256', undefined, 'ok'], ['qemu', K1.release, 'ok'], ['qemu', K2.release, 'failed']]);
    assert.equal(out.failures.length, 1);
    const f = out.failures[0]!;
    assert.deepEqual([f.stage, f.code, f.mode, f.kernel.release, f.kind], ['verify', 'E_VERIFY_FAILED', 'core-kernel-btf', K2.release, 'core']);
    assert.match(f.message, /libbpf: failed to load\nR1 invalid mem access/);
  });

  it('ignores outcomes for other bytes of the same path', () => {
    const out = applyVerification(index([core('a')]), [outcome(K1, 'core-kernel-btf', 'ok', 'z')]);
    assert.equal(out.artifacts[0]!.verification.length, 1);
  });

  it('a re-verification that passes settles the stored verify failure; other kernels keep theirs', () => {
    const stored = applyVerification(index([core('a')]), [outcome(K1, 'core-kernel-btf', 'failed'), outcome(K2, 'core-kernel-btf', 'failed')]);
    assert.equal(stored.failures.length, 2);
    const incoming = applyVerification(index([core('a')]), [outcome(K1, 'core-kernel-btf', 'ok')]);
    const merged = mergeIndex(stored, incoming);
    assert.deepEqual(merged.failures.map((f) => f.kernel.release), [K2.release]);
    const entries = merged.artifacts[0]!.verification.filter((v) => v.method === 'qemu');
    // K2's entry was not in the incoming index: it is carried over, not lost.
    assert.deepEqual(entries.map((v) => [v.kernel?.release, v.result]), [[K1.release, 'ok'], [K2.release, 'failed']]);
  });

  it('a build without verification keeps stored entries of the same bytes and drops those of old bytes', () => {
    const stored = applyVerification(index([core('a')]), [outcome(K1, 'core-kernel-btf', 'failed')]);
    const same = mergeIndex(stored, index([core('a')]));
    assert.equal(same.artifacts[0]!.verification.length, 2);
    assert.equal(same.failures.length, 1, 'the same object still fails there');
    const rebuilt = mergeIndex(stored, index([core('b')]));
    assert.equal(rebuilt.artifacts[0]!.verification.length, 1);
    assert.equal(rebuilt.failures.length, 0, 'a new object is not blamed for the old one');
  });

  it('build failures keep their semantics next to verify failures', () => {
    const buildFailure = { probe: 'other', kind: 'non-core' as const, arch: 'x86_64' as const, kernel: K1, code: 'E_COMPILE', message: 'x' };
    const stored = applyVerification(index([core('a')], [buildFailure]), [outcome(K1, 'core-kernel-btf', 'failed')]);
    const merged = mergeIndex(stored, index([core('a')]));
    assert.deepEqual(merged.failures.map((f) => f.stage ?? 'build').sort(), ['build', 'verify']);
    const otherBuilt = { ...core('c'), path: 'other/x86_64/other_debian_6.1.0-50-amd64.o', probe: 'other', kind: 'non-core' as const };
    assert.deepEqual(mergeIndex(stored, index([core('a'), otherBuilt])).failures.map((f) => f.stage), ['verify']);
  });
});
