/**
 * Slow (minutes of clang and make, real Debian kernels): Falco's two drivers
 * from falcosecurity-libs 0.20.0 (Debian trixie's source package, unpatched)
 * built by `kbuild build` from a kernels.yaml alone — what Falco's CMake does
 * before compiling (driver_config.h from its template, the driver's headers
 * laid beside the legacy probe, one folder per feature probe) is said with
 * `copy` and `configure`, and the sources are not touched. The yaml here is
 * the one docs/real-projects.md shows.
 *
 * driver/modern_bpf is verified in QEMU as libpman loads it (MODERN_VERIFY:
 * maps sized per CPU, an inner ring buffer, only the dispatchers attached) in
 * five kernels, and the verifier's rejection of signal_deliver on 6.12 is
 * shown with its whole log. driver/bpf (legacy `bpf_map_def` maps in
 * SEC("maps"), fillers as static functions in raw_tracepoint/filler/*) is
 * verified through the legacy guest loader (libbpf 0.3) as libscap's own ELF
 * loader loads it (LEGACY_VERIFY): the probes attached, the fillers loaded.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { ArtifactIndex } from '@kbuild/loader';
import { kbuild } from '../helpers/cli.js';
import { elfMachine, elfSections } from '../helpers/kbuild-probe.js';
import { realProject } from '../helpers/real-projects.js';
import { LEGACY_VERIFY, LEGACY_YAML, MODERN_VERIFY, MODERN_VERIFY_612_RULE, MODERN_YAML } from './falco-probes.js';
import { ARM64_16K } from './verify-policies.js';

interface Summary {
  readonly jobs: readonly { job: string; kind: string; status: string; durationMs: number }[];
}

async function build(work: string, name: string, yaml: string, verify = false): Promise<{ out: string; summary: Summary; index: ArtifactIndex }> {
  const kernels = join(work, `${name}.kernels.yaml`);
  await writeFile(kernels, yaml);
  const out = join(work, `out-${name}`);
  const result = await kbuild(['build', '--kernels', kernels, '--out', out, '--json'], { verify });
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

  it('driver/modern_bpf: one CO-RE object per arch linked from its 168 sources, external BTF for the kernel without BTF, verified as libpman loads it', async () => {
    const withKernel = (yaml: string): string => yaml.replace('btf:\n', `  - { distro: debian, release: ${ARM64_16K}, arch: arm64 }\nbtf:\n`);
    const policy = withKernel(MODERN_YAML.replace('    verify: false\n', MODERN_VERIFY + MODERN_VERIFY_612_RULE));
    const { out, summary, index } = await build(work, 'modern', policy, true);
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

    // Verified in every kernel, both BTF modes: the dispatchers attached, the tail-called programs loaded by policy.
    const releases = { x86_64: ['6.1.0-50-cloud-amd64', '6.12.117+deb13-cloud-amd64', '5.10.0-32-cloud-amd64'], arm64: ['6.1.0-50-arm64', ARM64_16K] };
    for (const artifact of index.artifacts) {
      for (const release of releases[artifact.arch as 'x86_64' | 'arm64']) {
        for (const mode of ['core-kernel-btf', 'core-external-btf'] as const) {
          const where = `${artifact.path} in ${release} (${mode})`;
          const entry = artifact.verification?.find((v) => v.method === 'qemu' && v.kernel?.release === release && v.mode === mode);
          assert.equal(entry?.result, 'ok', `${where}: ${entry?.firstError ?? entry?.detail ?? 'no entry'}`);
          const programs = new Map((entry?.programs ?? []).map((p) => [p.name, p]));
          assert.ok(programs.size > 300, `${where}: ${programs.size} programs`);
          for (const name of ['sys_enter', 'sys_exit', 'sched_proc_exit', 'sched_switch']) assert.equal(programs.get(name)?.result, 'attached', `${where}: ${name}`);
          assert.equal(programs.get('open_x')?.result, 'loaded', `${where}: open_x is tail-called`);
          assert.match(programs.get('open_x')?.detail ?? '', /attach\.skip/);
          assert.equal(programs.get('signal_deliver')?.result, release.startsWith('6.12.') ? 'skipped' : 'attached', `${where}: signal_deliver`);
        }
      }
    }

    // The offline CO-RE check agrees with every boot above: each kernel's BTF resolves every
    // relocation the programs can reach (Falco guards its version-dependent reads with
    // bpf_core_field_exists / bpf_core_type_exists), and QEMU loaded the object there in both modes.
    const policyFile = join(work, 'modern.kernels.yaml');
    const checked = await kbuild(['check', '--store', out, '--kernels', policyFile, '--json']);
    assert.equal(checked.exitCode, 0, `${checked.stdout.slice(-4000)}\n${checked.stderr.slice(-2000)}`);
    const check = JSON.parse(checked.stdout) as { checks: number; compatible: number; comparedWithQemu: number; disagreements: number; results: { entry: { kernel: { release: string }; result: string; guarded?: number } }[] };
    const booted = Object.values(releases).flat();
    assert.equal(check.checks, booted.length, 'one check per object and kernel of its arch');
    assert.equal(check.compatible, booted.length, check.results.map((r) => `${r.entry.kernel.release}: ${r.entry.result}`).join(', '));
    assert.equal(check.comparedWithQemu, booted.length * 2, 'both CO-RE modes of every boot compared');
    assert.equal(check.disagreements, 0);
    for (const r of check.results) console.log(`CO-RE check ${r.entry.kernel.release}: ${r.entry.result}, ${r.entry.guarded ?? 0} unresolved relocations behind exists guards`);

    // Without the 6.12 rule the verifier's rejection is the result, with its whole log kept as a blob.
    const strict = join(work, 'modern-strict.kernels.yaml');
    await writeFile(strict, withKernel(MODERN_YAML.replace('    verify: false\n', MODERN_VERIFY)));
    const rejected = await kbuild(['verify', '--store', out, '--kernels', strict, '--kernel', '6.12.117+deb13-cloud-amd64']);
    const said = `${rejected.stdout}\n${rejected.stderr}`;
    assert.equal(rejected.exitCode, 1, said.slice(-4000));
    assert.match(said, /program signal_deliver: R5 invalid mem access 'scalar'/);
    const after = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
    const failure = after.failures.find((f) => f.stage === 'verify' && f.kernel?.release === '6.12.117+deb13-cloud-amd64');
    assert.ok(failure, 'the rejection is listed in failures');
    const entry = after.artifacts
      .find((a) => a.arch === 'x86_64')
      ?.verification?.find((v) => v.method === 'qemu' && v.kernel?.release === '6.12.117+deb13-cloud-amd64' && v.mode === 'core-kernel-btf');
    assert.equal(entry?.result, 'failed');
    assert.ok(entry?.log, 'the whole verifier log is a blob in the store');
    const log = await readFile(join(out, entry.log.path), 'utf8');
    assert.match(log, /BEGIN PROG LOAD LOG[\s\S]*R5 invalid mem access 'scalar'[\s\S]*END PROG LOAD LOG/);
  });

  it('driver/bpf: the legacy probe built by each kernel\'s Kbuild (arm64 cross, 16K pages too), feature probes run at make time, verified as libscap loads it', async () => {
    const yaml = LEGACY_YAML.replace('    verify: false\n', LEGACY_VERIFY) + `  - { distro: debian, release: ${ARM64_16K}, arch: arm64, btf: true }\n`;
    const { out, index } = await build(work, 'legacy', yaml, true);
    assert.deepEqual(index.failures, []);
    const paths = index.artifacts.map((a) => a.path).sort();
    assert.equal(paths.length, 5, paths.join(', '));
    for (const kernel of ['6.1.0-50-arm64', '6.1.0-50-cloud-amd64', '6.12.117+deb13-cloud-amd64', '5.10.0-32-cloud-amd64', ARM64_16K]) {
      assert.ok(paths.some((p) => p.includes(kernel)), `an object for ${kernel}`);
    }
    for (const path of paths) {
      const object = join(out, path);
      assert.equal(await elfMachine(object), 247);
      const sections = await elfSections(object);
      for (const name of ['raw_tracepoint/sys_enter', 'raw_tracepoint/sys_exit', 'maps', 'license']) assert.ok(sections.includes(name), `${path}: ${name}`);
      assert.ok(sections.filter((s) => s.startsWith('raw_tracepoint/filler/')).length > 100, `${path}: the filler tail calls`);
    }
    // Each kernel's object loads in that kernel with libbpf 0.3: the probes attached, every filler loaded (accepted by the verifier).
    for (const artifact of index.artifacts) {
      const entry = artifact.verification?.find((v) => v.method === 'qemu' && v.mode === 'non-core');
      assert.equal(entry?.result, 'ok', `${artifact.path}: ${entry?.firstError ?? entry?.detail ?? 'no entry'}`);
      assert.match(entry?.detail ?? '', /legacy maps section: loaded with libbpf 0\.3/);
      const programs = entry?.programs ?? [];
      const attached = programs.filter((p) => p.result === 'attached').map((p) => p.name);
      for (const name of ['bpf_sys_enter', 'bpf_sys_exit', 'bpf_sched_process_exit', 'bpf_sched_switch', 'bpf_signal_deliver']) assert.ok(attached.includes(name), `${artifact.path}: ${name} attached`);
      const fillers = programs.filter((p) => p.result === 'loaded' && /not in attach\.only/.test(p.detail ?? ''));
      assert.ok(fillers.length > 100, `${artifact.path}: ${fillers.length} fillers loaded`);
      assert.equal(programs.filter((p) => p.result === 'failed').length, 0);
    }
  });
});
