import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ArtifactIndex, type IndexArtifact } from '../../src/loader/index-schema.js';
import { pick } from '../../src/loader/pick.js';
import { FsStore } from '../../src/store/fs-store.js';
import { applyVerification } from '../../src/verify/stage/apply-index.js';
import { entryOf, retryInconclusive } from '../../src/verify/stage/case-entry.js';
import type { VerifyCase, VerifyCaseResult, VerifyKernelResult } from '../../src/verify/types.js';

const K = { distro: 'debian', release: '6.1.0-50-amd64', arch: 'x86_64' as const };
const aCase = (probe: string): VerifyCase => ({ probe, mode: 'non-core', objectFile: '/o', objectSha256: 'a'.repeat(64), artifactPath: `${probe}/x86_64/${probe}.o`, check: {} });
const result = (c: VerifyCase, r: VerifyCaseResult['result'], detail: string): VerifyCaseResult => ({ case: c, result: r, detail, verifyId: 'f'.repeat(64) });
const boot = (outcome: VerifyKernelResult['outcome'], results: VerifyCaseResult[]): VerifyKernelResult => ({ kernel: K, outcome, seconds: 2, results });

describe('verify stage: inconclusive and whole logs', () => {
  it('boots the inconclusive cases once more and takes that answer; what stays inconclusive says it was retried', async () => {
    const [a, b, c] = [aCase('a'), aCase('b'), aCase('c')];
    const first = boot('timeout', [result(a, 'ok', 'attached'), result(b, 'inconclusive', 'timed out after 1 s'), result(c, 'inconclusive', 'timed out after 1 s')]);
    const asked: string[][] = [];
    const second = await retryInconclusive(first, async (cases) => {
      asked.push(cases.map((x) => x.probe));
      return boot('timeout', [result(b, 'ok', 'attached'), result(c, 'inconclusive', 'timed out after 1 s')]);
    });
    assert.deepEqual(asked, [['b', 'c']], 'one more boot, with only the inconclusive cases');
    assert.deepEqual(second.results.map((r) => r.result), ['ok', 'ok', 'inconclusive']);
    assert.match(second.results[2]?.detail ?? '', /retried once/);
    assert.equal(second.seconds, 4);
    const untouched = boot('completed', [result(a, 'ok', 'attached')]);
    assert.equal(await retryInconclusive(untouched, () => assert.fail('nothing to retry')), untouched);
  });

  it('an inconclusive entry is no failure and pick still picks the artifact', () => {
    const artifact: IndexArtifact = {
      path: 'a/x86_64/a_debian_6.1.0-50-amd64.o', probe: 'a', kind: 'non-core', arch: 'x86_64', kernel: K, size: 1, sha256: 'a'.repeat(64), buildId: 'b'.repeat(64), toolchain: 't',
      verification: [{ method: 'sha256', result: 'ok' }],
    };
    const index = ArtifactIndex.parse({ schemaVersion: 3, generatedAt: 'now', generator: 'test', artifacts: [artifact] });
    const entry = { method: 'qemu' as const, result: 'inconclusive' as const, kernel: K, mode: 'non-core' as const, detail: 'timed out after 300 s: the guest did not boot (no uname line)' };
    const out = applyVerification(index, [{ kernel: K, status: 'timeout', booted: true, seconds: 300, cases: [{ probe: 'a', mode: 'non-core', artifactPath: artifact.path, artifactSha256: artifact.sha256, kind: 'non-core', arch: 'x86_64', entry, cached: false }] }]);
    assert.deepEqual(out.failures, []);
    assert.equal(out.artifacts[0]?.verification.at(-1)?.result, 'inconclusive');
    assert.equal(pick(out, { ...K, version: '#1', hasBtf: true }, 'a').choice?.artifact.path, artifact.path);
  });

  it('stores a failed case\'s whole log once as verify/logs/<sha256>.log and keeps its end and first error in the entry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kbuild-verify-logs-'));
    try {
      const store = new FsStore(dir);
      const log = `libbpf: prog 'big': -- BEGIN PROG LOAD LOG --\n${'0: (b7) r0 = 0\n'.repeat(5000)}R1 invalid mem access 'scalar'\nprocessed 5000 insns\n-- END PROG LOAD LOG --\n`;
      const failed = { ...result(aCase('a'), 'failed', 'load failed'), verifierLog: log, programs: [{ name: 'big', result: 'failed' as const }] };
      const entry = await entryOf(failed, boot('completed', [failed]), store);
      assert.match(entry.log?.path ?? '', /^verify\/logs\/[0-9a-f]{64}\.log$/);
      assert.equal(await readFile(join(dir, entry.log?.path ?? 'x'), 'utf8'), log);
      assert.equal(entry.log?.size, Buffer.byteLength(log));
      assert.equal(entry.firstError, "R1 invalid mem access 'scalar'");
      assert.ok((entry.verifierLog ?? '').length <= 16384 && log.endsWith(entry.verifierLog ?? 'x'), 'the index keeps the end');
      assert.deepEqual(entry.programs, [{ name: 'big', result: 'failed' }]);
      const again = await entryOf(failed, boot('completed', [failed]), store);
      assert.deepEqual(again.log, entry.log, 'equal logs are one blob');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
