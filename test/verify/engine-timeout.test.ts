import assert from 'node:assert/strict';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { waitGroupGone } from '../../src/verify/process-group.js';
import { liveBoots } from '../../src/verify/qemu-process.js';
import type { VerifyCase } from '../../src/verify/types.js';
import { verifyKernel } from '../../src/verify/verify-kernel.js';
import { CHECK, groupRuns, KERNELS } from './engine-fixtures.js';

const HANG_CHILD = fileURLToPath(new URL('./engine-hang-child.ts', import.meta.url));


// Real QEMU with a guest told to hang after boot: the engine's limits must end it.
describe('verify engine: time limit, abort and parent signals (slow)', { timeout: 10 * 60 * 1000 }, () => {
  let work: string;
  let hangingCase: VerifyCase;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-verify-timeout-'));
    // Never opened: the guest hangs before its first case.
    const objectFile = join(work, 'never-loaded.o');
    await writeFile(objectFile, 'not an object');
    const objectSha256 = createHash('sha256').update('not an object').digest('hex');
    hangingCase = { probe: 'execve', mode: 'non-core', objectFile, objectSha256, artifactPath: 'execve/x86_64/never-loaded.o', check: CHECK };
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('kills a guest that never finishes at its limit; its cases are inconclusive (the emulator stopped the proof), not failed', async () => {
    let pgid: number | undefined;
    let console = '';
    const limitMs = 25_000;
    const result = await verifyKernel(
      { kernel: KERNELS.x86_64, cases: [hangingCase], timeoutMs: limitMs, cacheDir: cacheRoot() },
      { hangGuest: true, onQemuStart: (pid) => (pgid = pid), onConsole: (chunk) => (console += chunk) },
    );
    assert.equal(result.outcome, 'timeout');
    assert.match(console, /KBUILD-NOTE hanging/, 'the guest booted and hung (it did not just fail to start)');
    assert.equal(result.bootedRelease, KERNELS.x86_64.release);
    assert.equal(result.results.length, 1);
    assert.equal(result.results[0]?.result, 'inconclusive');
    assert.match(result.results[0]?.detail ?? '', /timed out after 25 s: the guest did not reach this case/);
    // Killed at the limit, not when the guest would have ended (never): a functional bound, not a speed target.
    assert.ok(result.seconds < limitMs / 1000 + 20, `ended after ${result.seconds} s`);
    assert.ok(pgid !== undefined);
    assert.equal(await groupRuns(pgid), false, 'QEMU and its wrapper are gone');
    assert.deepEqual(liveBoots(), []);
  });

  it('kills QEMU when the caller aborts', async () => {
    const controller = new AbortController();
    let pgid: number | undefined;
    let seen = '';
    const running = verifyKernel(
      { kernel: KERNELS.x86_64, cases: [], timeoutMs: 600_000, cacheDir: cacheRoot(), signal: controller.signal },
      {
        hangGuest: true,
        onQemuStart: (pid) => (pgid = pid),
        onConsole: (chunk) => {
          seen += chunk;
          if (seen.includes('KBUILD-NOTE hanging')) controller.abort(new Error('test aborts'));
        },
      },
    );
    // Should the guest never say it hangs, the test fails after a minute instead of waiting ten.
    const fallback = setTimeout(() => controller.abort(new Error('the guest never reported hanging')), 60_000);
    await assert.rejects(running, /test aborts/).finally(() => clearTimeout(fallback));
    assert.ok(pgid !== undefined);
    assert.equal(await groupRuns(pgid), false);
    assert.deepEqual(liveBoots(), []);
  });

  it('kills QEMU when the process running the engine gets SIGTERM', async () => {
    const child = execa('node', ['--import', 'tsx', HANG_CHILD], { reject: false, buffer: false, stdout: 'pipe', stderr: 'inherit' });
    const pgid = await new Promise<number>((resolve, reject) => {
      let text = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const m = /QEMU-GROUP (\d+)/.exec(text);
        if (m !== null) resolve(Number(m[1]));
      });
      child.once('exit', () => reject(new Error('the engine process ended before starting QEMU')));
    });
    assert.equal(await groupRuns(pgid), true, 'QEMU is running');
    child.kill('SIGTERM');
    const ended = await child;
    assert.equal(ended.signal, 'SIGTERM', 'the process still dies of SIGTERM');
    assert.equal(await waitGroupGone(pgid, 5000), true, 'its QEMU went with it');
  });
});
