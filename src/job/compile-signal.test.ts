import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExecResult } from '../exec/exec.js';
import type { BuildStep, Executor } from '../executor/types.js';
import { compileCore } from './compile.js';

/** Runs no compiler: answers clang's include query and writes the object clang would (-o). */
class FakeExecutor implements Executor {
  readonly name = 'fake';
  toolchainId(): Promise<string> {
    return Promise.resolve('fake-toolchain');
  }
  async run(step: BuildStep): Promise<ExecResult> {
    const out = step.argv.indexOf('-o');
    if (out >= 0) await writeFile(step.argv[out + 1]!, 'object');
    const stdout = step.argv.includes('-print-file-name=include') ? '/usr/lib/clang/include\n' : '';
    return { stdout, stderr: '', exitCode: 0 } as ExecResult;
  }
}

describe('compile: the job signal', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kbuild-compile-signal-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  // A build hands one signal to all its jobs; each compile used to leave a listener on it
  // (135 CO-RE jobs of bpftune: MaxListenersExceededWarning after the 10th).
  it('keeps no listener on the signal once a compile is done', async () => {
    const build = new AbortController();
    for (let i = 0; i < 15; i++) {
      const workDir = await mkdtemp(join(dir, 'work-'));
      await compileCore(new FakeExecutor(), { probeDir: dir, entry: 'p.bpf.c', arch: 'x86_64', workDir, output: join(dir, `p-${i}.o`) }, build.signal);
    }
    assert.equal(getEventListeners(build.signal, 'abort').length, 0);
  });
});
