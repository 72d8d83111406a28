import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CaseOutcome, KernelOutcome } from '../../src/verify/stage/outcome.js';
import { outcomeLine, outcomeVerdict } from '../../src/verify/stage/progress.js';

const K = { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' as const };
const aCase = (result: CaseOutcome['entry']['result']): CaseOutcome => ({
  probe: 'p', mode: 'non-core', artifactPath: 'p/x86_64/p.o', artifactSha256: 'a'.repeat(64), kind: 'non-core', arch: 'x86_64', cached: false,
  entry: { method: 'qemu', result, kernel: K, mode: 'non-core' },
});
const outcome = (status: KernelOutcome['status'], results: CaseOutcome['entry']['result'][], detail?: string): KernelOutcome => ({
  kernel: K, status, booted: status !== 'not-verifiable' && status !== 'cached', seconds: 4.5, cases: results.map(aCase), ...(detail === undefined ? {} : { detail }),
});

describe('verify wording: failure and inconclusive never read as success', () => {
  it('says verified only when every case loaded', () => {
    assert.equal(outcomeVerdict(outcome('completed', ['ok', 'ok'])), 'verified');
    assert.equal(outcomeVerdict(outcome('cached', ['ok'])), 'verified');
    assert.equal(outcomeVerdict(outcome('completed', ['ok', 'failed'])), 'FAILED');
    assert.equal(outcomeVerdict(outcome('completed', ['ok', 'inconclusive'])), 'inconclusive');
    assert.equal(outcomeVerdict(outcome('completed', ['ok', 'not-verifiable'])), 'partly verified');
    assert.equal(outcomeVerdict(outcome('not-verifiable', ['not-verifiable'])), 'not verifiable');
    assert.equal(outcomeVerdict(outcome('boot-failed', ['inconclusive'])), 'NOT VERIFIED');
    assert.equal(outcomeVerdict(outcome('timeout', ['ok', 'inconclusive'])), 'NOT VERIFIED');
  });

  it('a kernel that did not boot reads as not verified, with why', () => {
    const line = outcomeLine(outcome('boot-failed', ['inconclusive'], 'kernel panic'));
    assert.equal(line, 'NOT VERIFIED debian/6.1.0-50-cloud-amd64/x86_64 (boot failed): 0 ok, 0 failed, 0 not verifiable, 1 inconclusive: kernel panic');
    assert.doesNotMatch(line, /^verified/);
    assert.match(outcomeLine(outcome('timeout', ['inconclusive'])), /^NOT VERIFIED \S+ \(timed out after 4\.5s\)/);
    assert.equal(outcomeLine(outcome('completed', ['ok'])), 'verified debian/6.1.0-50-cloud-amd64/x86_64 (booted 4.5s): 1 ok, 0 failed, 0 not verifiable');
  });
});
