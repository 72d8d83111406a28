import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createDebianBuilder } from '../../../builders/debian/index.js';
import { cacheRoot } from '../../cache/cache-dir.js';
import { LocalExecutor } from '../../executor/local.js';
import type { KernelIdentity } from '../../kernel/identity.js';
import { fetchFalcoLibs, stageFalcoBpf } from '../../../test/helpers/falco-libs.js';
import { elfMachine, elfSections } from '../../../test/helpers/kbuild-probe.js';
import { compileWithKbuild } from './kernel-kbuild.js';

/**
 * Slow (~30 s of make per kernel): Falco's legacy probe, driver/bpf of
 * falcosecurity-libs 0.20.0 from Debian's source archive, unmodified, built
 * by the kernel's Kbuild with its own Makefile and its try-compile feature
 * probes. Not loaded: its `bpf_map_def` maps need Falco's own loader.
 */

const kernels: KernelIdentity[] = [
  { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' },
  { distro: 'debian', release: '6.1.0-50-arm64', arch: 'arm64' },
];

describe("Falco's driver/bpf through the kernel Kbuild recipe (slow: network, make)", { timeout: 1_200_000 }, () => {
  for (const kernel of kernels) {
    it(`builds probe.o for ${kernel.release} (${kernel.arch})`, async () => {
      const cacheDir = cacheRoot();
      const tree = await createDebianBuilder().fetchBuildTree!(kernel, { cacheDir });
      const work = await mkdtemp(join(tmpdir(), 'kbuild-falco-'));
      try {
        await stageFalcoBpf(await fetchFalcoLibs(cacheDir), join(work, 'project'));
        const result = await compileWithKbuild(new LocalExecutor(), {
          projectDir: join(work, 'project'),
          dir: 'bpf',
          arch: kernel.arch,
          buildDir: tree.buildDir,
          buildRoot: tree.root,
          makeArgs: [],
          objectName: 'probe.o',
          workDir: work,
          output: join(work, 'out', 'probe.o'),
        });
        assert.equal(await elfMachine(result.output), 247);
        const sections = await elfSections(result.output);
        for (const name of ['raw_tracepoint/sys_enter', 'raw_tracepoint/sys_exit', 'raw_tracepoint/sched_process_exit', 'maps', 'license']) {
          assert.ok(sections.includes(name), `${name} in ${sections.length} sections`);
        }
        assert.ok(sections.filter((s) => s.startsWith('raw_tracepoint/filler/')).length > 100, 'the filler tail calls');
        // The feature probes ran at make time and, on 6.1, both found the older layout.
        const log = await readFile(join(work, 'project', 'bpf', 'configure', 'RSS_STAT_ARRAY', 'build.log'), 'utf8');
        assert.match(log, /rss_stat/);
        console.log(`${kernel.release}: falco driver/bpf built in ${(result.durationMs / 1000).toFixed(1)} s`);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  }
});
