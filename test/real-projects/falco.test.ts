/**
 * Slow (minutes of clang and make, real Debian kernels): Falco's two drivers
 * from falcosecurity-libs 0.20.0 (Debian trixie's source package, unpatched)
 * built by `kbuild build` from a kernels.yaml alone — what Falco's CMake does
 * before compiling (driver_config.h from its template, the driver's headers
 * laid beside the legacy probe, one folder per feature probe) is said with
 * `copy` and `configure`, and the sources are not touched. The yaml here is
 * the one docs/real-projects.md shows.
 *
 * Neither object is loaded here:
 * - driver/modern_bpf: `bpftool prog loadall` refuses it on any kernel, since
 *   three of its maps have max_entries 0 and libscap sizes them (CPU count,
 *   ring buffer size) before loading; with a loader that does, 333 of 339
 *   programs pass this host's (6.18) verifier and 6 fail on
 *   kernfs_node.parent, renamed __parent in 6.15, which 0.20.0 predates.
 * - driver/bpf: its maps are legacy `bpf_map_def` in SEC("maps") and its
 *   fillers static functions; libbpf >= 1.0 loads neither. Falco loads it with
 *   libscap's own ELF loader.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { ArtifactIndex } from '../../src/loader/index-schema.js';
import { kbuild } from '../helpers/cli.js';
import { elfMachine, elfSections } from '../helpers/kbuild-probe.js';
import { realProject } from '../helpers/real-projects.js';
import { LEGACY_YAML, MODERN_YAML } from './falco-probes.js';

interface Summary {
  readonly jobs: readonly { job: string; kind: string; status: string; durationMs: number }[];
}

async function build(work: string, name: string, yaml: string): Promise<{ out: string; summary: Summary; index: ArtifactIndex }> {
  const kernels = join(work, `${name}.kernels.yaml`);
  await writeFile(kernels, yaml);
  const out = join(work, `out-${name}`);
  const result = await kbuild(['build', '--kernels', kernels, '--out', out, '--json']);
  assert.equal(result.exitCode, 0, `${result.stdout.slice(-8000)}\n${result.stderr.slice(-4000)}`);
  const summary = JSON.parse(result.stdout) as Summary;
  const index = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
  for (const job of summary.jobs) console.log(`${job.job}: ${job.status} in ${(job.durationMs / 1000).toFixed(1)} s`);
  for (const tar of await readdir(join(out, 'bundles'))) console.log(`bundle ${tar}: ${(await stat(join(out, 'bundles', tar))).size} bytes`);
  return { out, summary, index };
}

/** BPF programs in a linked object: `bpftool gen object` merges same-named sections, so count the global functions. */
async function programCount(object: string): Promise<number> {
  const { stdout } = await execa('llvm-readelf', ['-sW', object]);
  return stdout.split('\n').filter((line) => /\sFUNC\s+GLOBAL\s/.test(line)).length;
}

describe("Falco's drivers (falcosecurity-libs 0.20.0) from a kernels.yaml alone (real Debian kernels, slow)", { timeout: 40 * 60 * 1000 }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-falco-'));
    await cp(await realProject('falcosecurity-libs'), join(work, 'libs'), { recursive: true });
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('driver/modern_bpf: one CO-RE object per arch linked from its 168 sources, external BTF for the kernel without BTF', async () => {
    const { out, summary, index } = await build(work, 'modern', MODERN_YAML);
    assert.deepEqual(summary.jobs.filter((j) => j.kind === 'core').map((j) => j.status), ['built', 'built']);
    assert.deepEqual(index.artifacts.map((a) => a.path).sort(), ['core/arm64/falco-modern.o', 'core/x86_64/falco-modern.o']);
    assert.deepEqual(index.failures, []);
    for (const artifact of index.artifacts) {
      const object = join(out, artifact.path);
      assert.equal(await elfMachine(object), 247);
      const programs = await programCount(object);
      assert.ok(programs > 300, `${artifact.path}: ${programs} programs`);
      assert.ok((await elfSections(object)).includes('tp_btf/sys_enter'), `${artifact.path}: the syscall dispatcher`);
    }
    const btf = index.kernelBtf.find((k) => k.kernel.release === '5.10.0-32-cloud-amd64');
    assert.equal(btf?.objects[0]?.probe, 'falco-modern', 'the btf: false kernel has external BTF for the CO-RE object');
    assert.equal(btf?.objects[0]?.relocationCheck.result, 'ok');
  });

  it('driver/bpf: the legacy probe built by each kernel\'s Kbuild (arm64 cross), feature probes run at make time', async () => {
    const { out, index } = await build(work, 'legacy', LEGACY_YAML);
    assert.deepEqual(index.failures, []);
    const paths = index.artifacts.map((a) => a.path).sort();
    assert.equal(paths.length, 4, paths.join(', '));
    for (const kernel of ['6.1.0-50-arm64', '6.1.0-50-cloud-amd64', '6.12.117+deb13-cloud-amd64', '5.10.0-32-cloud-amd64']) assert.ok(paths.some((p) => p.includes(kernel)), `an object for ${kernel}`);
    for (const path of paths) {
      const object = join(out, path);
      assert.equal(await elfMachine(object), 247);
      const sections = await elfSections(object);
      for (const name of ['raw_tracepoint/sys_enter', 'raw_tracepoint/sys_exit', 'maps', 'license']) assert.ok(sections.includes(name), `${path}: ${name}`);
      assert.ok(sections.filter((s) => s.startsWith('raw_tracepoint/filler/')).length > 100, `${path}: the filler tail calls`);
    }
  });
});
