import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex, type IndexArtifact, pick } from '@kbuild/loader';
import { parseSignature, publicKeyFromPem, verifyIndexBytes } from '@kbuild/loader/internal';
import { kbuild } from '../helpers/cli.js';
import { KERNEL, writeVerifyFixtures } from '../verify/stage-fixtures.js';

interface VerifyJson {
  readonly booted: number;
  readonly cached: number;
  readonly ok: number;
  readonly failed: number;
  readonly kernels: readonly { status: string; cases: readonly { probe: string; mode: string; result: string; cached: boolean; detail?: string; events?: number }[] }[];
}

const readIndex = async (store: string): Promise<ArtifactIndex> => ArtifactIndex.parse(JSON.parse(await readFile(join(store, 'index.json'), 'utf8')));
const qemu = (a: IndexArtifact | undefined) => (a?.verification ?? []).filter((v) => v.method === 'qemu');
const HOST = { ...KERNEL, version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1', hasBtf: true };
const hostFlags = ['--distro', KERNEL.distro, '--release', KERNEL.release, '--arch', KERNEL.arch, '--kernel-version', HOST.version, '--btf', 'yes'];

// One real Debian kernel booted in QEMU; every test after the first reuses the store and its verification records.
describe('verify stage: kbuild build and kbuild verify (real QEMU boots, slow)', { timeout: 30 * 60 * 1000 }, () => {
  let work: string;
  let out: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-verify-cli-'));
    out = join(work, 'out');
    await writeVerifyFixtures(work);
  });
  after(() => rm(work, { recursive: true, force: true }));

  const build = (kernels: string, store: string, args: string[] = []) =>
    kbuild(['build', '--kernels', join(work, kernels), '--out', store, '--json', ...args], { verify: true });

  it('build verifies every artifact in the booted kernel; a program the verifier rejects fails the build but stays listed', async () => {
    const result = await build('kernels.yaml', out);
    assert.equal(result.exitCode, 1, result.stderr + result.stdout);
    const summary = JSON.parse(result.stdout) as { failed: number; verify: VerifyJson };
    assert.equal(summary.failed, 0, 'every build succeeded: the failure is the verification');
    assert.equal(summary.verify.booted, 1);
    assert.match(result.stderr, /\[verify 1\/1\] FAILED +debian\/6\.1\.0-50-cloud-amd64\/x86_64 \(booted/);

    const index = await readIndex(out);
    const byPath = (path: string) => index.artifacts.find((a) => a.path === path);
    const execveCore = qemu(byPath('core/x86_64/execve.o'));
    assert.deepEqual(execveCore.map((v) => [v.mode, v.result]), [['core-external-btf', 'ok'], ['core-kernel-btf', 'ok']]);
    const execveOwn = qemu(byPath(`execve/x86_64/execve_debian_${KERNEL.release}.o`));
    assert.deepEqual(execveOwn.map((v) => [v.mode, v.result]), [['non-core', 'ok']]);
    for (const v of [...execveCore, ...execveOwn]) {
      assert.equal(v.bootedRelease, KERNEL.release, 'the entry names the kernel that ran');
      // No event check in kernels.yaml: load + attach is the proof, per program.
      assert.deepEqual(v.programs?.map((p) => [p.name, p.result]), [['tracepoint__syscalls__sys_enter_execve', 'attached']], v.mode);
      assert.match(v.verifyId ?? '', /^[0-9a-f]{64}$/);
      assert.equal(v.kernel?.release, KERNEL.release);
    }
    assert.match(execveCore.find((v) => v.mode === 'core-external-btf')?.btfSha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(byPath('core/x86_64/execve.o')?.verification[0]?.method, 'sha256', 'the sha256 entry stays first');

    // The broken probe: built, listed, failed with the verifier's words, and a failure of stage verify.
    const brokenOwn = byPath(`broken/x86_64/broken_debian_${KERNEL.release}.o`);
    assert.ok(brokenOwn !== undefined, 'a failed verification does not remove the artifact');
    const failedEntry = qemu(brokenOwn).find((v) => v.mode === 'non-core');
    assert.equal(failedEntry?.result, 'failed');
    assert.match(failedEntry?.verifierLog ?? '', /invalid access to map value|unbounded|R\d+ /);
    assert.match(failedEntry?.firstError ?? '', /invalid access to map value|unbounded|R\d+ /);
    // The whole log is a blob in the store, named by its sha256.
    const blob = failedEntry?.log;
    assert.match(blob?.path ?? '', /^verify\/logs\/[0-9a-f]{64}\.log$/);
    const whole = await readFile(join(out, blob?.path ?? 'missing'));
    assert.equal(whole.length, blob?.size);
    assert.equal(createHash('sha256').update(whole).digest('hex'), blob?.sha256);
    assert.match(whole.toString(), /BEGIN PROG LOAD LOG[\s\S]*END PROG LOAD LOG/);
    assert.deepEqual(failedEntry?.programs?.map((p) => [p.name, p.result]), [['broken', 'failed']]);
    const failures = index.failures.filter((f) => f.probe === 'broken');
    assert.deepEqual(failures.map((f) => [f.stage, f.code, f.kind, f.mode]).sort(), [
      ['verify', 'E_VERIFY_FAILED', 'core', 'core-external-btf'],
      ['verify', 'E_VERIFY_FAILED', 'core', 'core-kernel-btf'],
      ['verify', 'E_VERIFY_FAILED', 'non-core', 'non-core'],
    ]);
    for (const f of failures) {
      assert.equal(f.kernel.release, KERNEL.release);
      assert.match(f.message, /map value|unbounded|R\d+ /, 'the failure carries the verifier log head');
    }
    assert.equal(index.failures.filter((f) => f.probe === 'execve').length, 0);

    // The loader never picks what failed here, and says why.
    const choice = pick(index, HOST, 'broken');
    assert.equal(choice.choice, undefined);
    assert.match(choice.rejected.map((r) => r.reason).join('\n'), /failed QEMU verification in debian 6\.1\.0-50-cloud-amd64 x86_64 \(non-core\)/);
    const verified = await kbuild(['pick', '--allow-unsigned', '--index', join(out, 'index.json'), '--probe', 'execve', '--require-verified', '--json', ...hostFlags]);
    assert.equal(verified.exitCode, 0, verified.stderr + verified.stdout);
    assert.match(verified.stdout, /verified in QEMU on this kernel/);
  });

  it('a second build boots nothing: every result comes from the verification records', async () => {
    const result = await build('kernels.yaml', out);
    assert.equal(result.exitCode, 1, 'a cached failure is still a failure');
    const { verify } = JSON.parse(result.stdout) as { verify: VerifyJson };
    assert.equal(verify.booted, 0);
    const cases = verify.kernels.flatMap((k) => k.cases);
    assert.equal(cases.length, 6);
    assert.ok(cases.every((c) => c.cached), JSON.stringify(cases));
    assert.equal(verify.kernels[0]?.status, 'cached');
  });

  it('kbuild verify on an existing store: a timeout is inconclusive (retried once, not a failure, not cached, still picked); the next run boots and passes', async () => {
    const store = join(work, 'out-unverified');
    assert.equal((await kbuild(['keygen', '--out', join(work, 'keys')])).exitCode, 0);
    const key = ['--signing-key', join(work, 'keys', 'kbuild-index.key')];
    const built = await kbuild(['build', '--kernels', join(work, 'execve.yaml'), '--out', store, ...key]);
    assert.equal(built.exitCode, 0, built.stderr);
    assert.equal(qemu((await readIndex(store)).artifacts[0]).length, 0, '--no-verify: no qemu entries');

    const timedOut = await kbuild(['verify', '--store', store, '--timeout', '1', '--json', ...key]);
    assert.equal(timedOut.exitCode, 0, `an emulator limit is not a failure: ${timedOut.stderr}${timedOut.stdout}`);
    const t = JSON.parse(timedOut.stdout) as VerifyJson & { inconclusive: number };
    assert.equal(t.kernels[0]?.status, 'timeout');
    assert.equal(t.inconclusive, 3);
    assert.ok(t.kernels[0]?.cases.every((c) => c.result === 'inconclusive' && /timed out after 1 s.*retried once/.test(c.detail ?? '')), JSON.stringify(t.kernels[0]?.cases));
    const inconclusive = await readIndex(store);
    assert.equal(inconclusive.failures.length, 0);
    assert.deepEqual(inconclusive.artifacts.flatMap(qemu).map((v) => v.result), ['inconclusive', 'inconclusive', 'inconclusive']);
    // pick still picks it; only --require-verified treats it as unproven.
    assert.equal(pick(inconclusive, HOST, 'execve').choice?.mode, 'non-core');
    const unproven = await kbuild(['pick', '--allow-unsigned', '--index', join(store, 'index.json'), '--probe', 'execve', '--require-verified', ...hostFlags]);
    assert.notEqual(unproven.exitCode, 0);
    assert.match(unproven.stdout + unproven.stderr, /inconclusive, so it is unproven/);

    const again = await kbuild(['verify', '--store', store, '--json', ...key]);
    assert.equal(again.exitCode, 0, again.stderr + again.stdout);
    const a = JSON.parse(again.stdout) as VerifyJson;
    assert.equal(a.booted, 1, 'the timeout was not cached');
    assert.equal(a.ok, 3);
    const index = await readIndex(store);
    assert.deepEqual(index.failures, []);
    assert.deepEqual(index.artifacts.flatMap(qemu).map((v) => v.result), ['ok', 'ok', 'ok'], 'the passing re-verification replaced the inconclusive entries');
    assert.equal(index.artifacts.flatMap(qemu).length, 3);
    // Written through the signed publish path.
    const pub = publicKeyFromPem(await readFile(join(work, 'keys', 'kbuild-index.pub')), 'pub');
    const bytes = await readFile(join(store, 'index.json'));
    const sig = parseSignature(await readFile(join(store, 'index.json.sig')), 'sig');
    assert.equal(verifyIndexBytes(bytes, sig, { publicKey: pub }, 'index').signed, true);

    const cached = JSON.parse((await kbuild(['verify', '--store', store, '--json', ...key])).stdout) as VerifyJson;
    assert.equal(cached.booted, 0);
    assert.equal(cached.cached, 3);
  });

  it('kbuild verify refuses a kernel the index does not list, and a store without an index', async () => {
    const unknown = await kbuild(['verify', '--store', out, '--kernel', '9.9.9-1-amd64']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /--kernel 9\.9\.9-1-amd64: not a kernel of .*index\.json \(it has 6\.1\.0-50-cloud-amd64\)/);
    const empty = await kbuild(['verify', '--store', join(work, 'nothing-here')]);
    assert.equal(empty.exitCode, 2);
    assert.match(empty.stderr, /index\.json does not exist/);
  });
});
