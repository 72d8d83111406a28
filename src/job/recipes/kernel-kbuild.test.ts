import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createDebianBuilder } from '../../../builders/debian/index.js';
import { cacheRoot } from '../../cache/cache-dir.js';
import { CompileError } from '../../errors.js';
import { LocalExecutor } from '../../executor/local.js';
import type { KernelIdentity } from '../../kernel/identity.js';
import { elfMachine, elfSections, writeTinyKbuildProbe } from '../../../test/helpers/kbuild-probe.js';
import { compileWithKbuild } from './kernel-kbuild.js';

/**
 * Slow: fetches real Debian build trees (headers, -common, linux-kbuild-6.1)
 * into the real cache and runs the kernel's own make on a probe the test
 * writes, natively for x86_64 and cross for arm64.
 */

const kernels: KernelIdentity[] = [
  { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' },
  { distro: 'debian', release: '6.1.0-50-arm64', arch: 'arm64' },
];

describe('kernel Kbuild recipe on real Debian build trees (slow: network, make)', { timeout: 900_000 }, () => {
  for (const kernel of kernels) {
    it(`builds a Kbuild-style probe for ${kernel.release} (${kernel.arch})`, async () => {
      const tree = await createDebianBuilder().fetchBuildTree!(kernel, { cacheDir: cacheRoot() });
      assert.deepEqual(
        tree.packages.map((p) => p.name),
        [`linux-headers-${kernel.release}`, 'linux-headers-6.1.0-50-common', 'linux-kbuild-6.1'],
      );
      const work = await mkdtemp(join(tmpdir(), 'kbuild-kbuild-'));
      try {
        await writeTinyKbuildProbe(join(work, 'project', 'probe'));
        const result = await compileWithKbuild(new LocalExecutor(), {
          projectDir: join(work, 'project'),
          dir: 'probe',
          arch: kernel.arch,
          buildDir: tree.buildDir,
          buildRoot: tree.root,
          makeArgs: ['TINY_FLAGS=-DTINY_VALUE=1'],
          objectName: 'tiny.o',
          workDir: work,
          output: join(work, 'out', 'tiny.o'),
        });
        assert.equal(await elfMachine(result.output), 247);
        assert.ok((await elfSections(result.output)).includes('raw_tracepoint/sys_enter'));
        console.log(`${kernel.release}: tiny probe built in ${(result.durationMs / 1000).toFixed(1)} s`);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  }

  it("keeps make's own output when the probe does not compile", async () => {
    const kernel = kernels[0] as KernelIdentity;
    const tree = await createDebianBuilder().fetchBuildTree!(kernel, { cacheDir: cacheRoot() });
    const work = await mkdtemp(join(tmpdir(), 'kbuild-kbuild-'));
    try {
      await writeTinyKbuildProbe(join(work, 'project'));
      const input = { projectDir: join(work, 'project'), dir: '.', arch: kernel.arch, buildDir: tree.buildDir, buildRoot: tree.root };
      const failing = compileWithKbuild(new LocalExecutor(), { ...input, makeArgs: [], objectName: 'tiny.o', workDir: work, output: join(work, 'tiny.o') });
      await assert.rejects(failing, (err: unknown) => {
        assert.ok(err instanceof CompileError);
        assert.match(err.output, /TINY_FLAGS did not reach the compiler/);
        return true;
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
