import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex } from '@kbuild/loader';
import { loadIntoHostKernel } from '../helpers/bpffs.js';
import { CLI, countingToolchain, kbuild, REPO_ROOT } from '../helpers/cli.js';
import { threeDebianKernels, writeBreakingProbe } from '../helpers/kernel-sets.js';

// Real Debian kernels: one amd64 cloud flavour, one 6.12, one arm64 (cross-compiled).
const KERNELS = threeDebianKernels();

/** linux-headers-6.1.0-50-cloud-amd64 depends on linux-headers-6.1.0-50-common. */
const expectedCommon = (release: string): string => `linux-headers-${release.replace(/-(cloud-)?(amd64|arm64)$/, '')}-common`;

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('kbuild build (real Debian kernels, slow)', { timeout: 30 * 60 * 1000 }, async () => {
  let work: string;
  let out: string;
  let index: ArtifactIndex;
  let tools: { path: string; log: string };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-e2e-'));
    out = join(work, 'out');
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), KERNELS);
    tools = await countingToolchain(join(work, 'tools'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  const run = (args: string[], env: Record<string, string> = {}) =>
    kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--out', out, '--json', ...args], { env: { PATH: tools.path, ...env } });

  it('builds every kernel and both CO-RE objects and writes a valid index', async () => {
    const result = await run([]);
    assert.equal(result.exitCode, 0, result.stderr + result.stdout);
    const summary = JSON.parse(result.stdout) as { built: number; failed: number };
    assert.equal(summary.failed, 0);
    index = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
    const paths = index.artifacts.map((a) => a.path).sort();
    assert.deepEqual(paths, [
      'core/arm64/execve.o',
      'core/x86_64/execve.o',
      'execve/arm64/execve_debian_6.1.0-50-arm64.o',
      'execve/x86_64/execve_debian_6.1.0-50-cloud-amd64.o',
      'execve/x86_64/execve_debian_6.12.117+deb13-cloud-amd64.o',
    ]);
    for (const artifact of index.artifacts) {
      const bytes = await readFile(join(out, artifact.path));
      assert.equal(bytes.length, artifact.size);
      assert.equal(sha256(bytes), artifact.sha256, artifact.path);
      assert.equal(bytes.subarray(0, 4).toString('latin1'), '\x7fELF');
      // e_machine 247 = EM_BPF: arm64 kernels are cross-compiled to BPF, not to aarch64 code.
      assert.equal(bytes.readUInt16LE(18), 247, `${artifact.path} is a BPF object`);
      const sources = (artifact.sources ?? []).map((p) => p.name);
      if (artifact.kind === 'non-core') {
        // Provenance: both header packages, and the configuration the object was built with.
        assert.deepEqual(sources.sort(), [`linux-headers-${artifact.kernel.release}`, expectedCommon(artifact.kernel.release)].sort());
        assert.equal(artifact.buildConfig?.maxPathComponents, 80, 'every kernel of the set is >= 5.5');
        assert.ok((artifact.buildConfig?.linuxVersionCode ?? 0) >= 0x060100);
      } else {
        assert.match(sources[0] ?? '', new RegExp(`^linux-image-${artifact.kernel.release.replace(/[+.]/g, '\\$&')}(-unsigned)?$`));
      }
    }
  });

  it('rebuilds nothing and downloads nothing when nothing changed', async () => {
    const compilesBefore = (await readFile(tools.log, 'utf8')).split('\n').filter(Boolean).length;
    assert.ok(compilesBefore >= 5, 'the first build compiled');
    // An empty cache and a dead mirror: any download would fail the build.
    const emptyCache = join(work, 'empty-cache');
    const result = await run([], { KBUILD_CACHE_DIR: emptyCache, KBUILD_DEBIAN_MIRROR: 'http://127.0.0.1:9/debian' });
    assert.equal(result.exitCode, 0, result.stderr + result.stdout);
    const summary = JSON.parse(result.stdout) as { built: number; skipped: number };
    assert.equal(summary.built, 0);
    assert.equal(summary.skipped, 5);
    const compilesAfter = (await readFile(tools.log, 'utf8')).split('\n').filter(Boolean).length;
    assert.equal(compilesAfter, compilesBefore, 'no compiler ran');
  });

  it('the CO-RE object that pick chooses for this machine loads into its kernel', async () => {
    const picked = await kbuild(['pick', '--allow-unsigned', '--index', join(out, 'index.json'), '--json']);
    assert.equal(picked.exitCode, 0, picked.stderr + picked.stdout);
    const choice = (JSON.parse(picked.stdout) as { picks: { choice: { mode: string; artifact: { path: string } } }[] }).picks[0]?.choice;
    assert.equal(choice?.mode, 'core', 'this machine does not run a Debian kernel of the set');
    const loaded = await loadIntoHostKernel(join(out, choice.artifact.path));
    assert.ok(loaded.ok, loaded.output);
    assert.ok(loaded.programs.length >= 1);
  });

  it('a kernel missing from the archive fails alone, with its reason, and keeps what was built', async () => {
    const before = await readFile(join(out, 'execve/x86_64/execve_debian_6.1.0-50-cloud-amd64.o'));
    await writeFile(join(work, 'kernels.yaml'), `${KERNELS}  - { distro: debian, release: 6.1.0-999-amd64, arch: x86_64, btf: true }\n`);
    const result = await run([]);
    assert.equal(result.exitCode, 1);
    const summary = JSON.parse(result.stdout) as { failed: number; skipped: number; jobs: { job: string; error?: { code: string; message: string } }[] };
    assert.equal(summary.failed, 1);
    assert.equal(summary.skipped, 5);
    const failed = summary.jobs.find((j) => j.error !== undefined);
    assert.equal(failed?.error?.code, 'E_KERNEL_NOT_FOUND');
    assert.match(failed?.error?.message ?? '', /6\.1\.0-999-amd64.*not found in .*bullseye.*bookworm.*trixie.*sid/);
    const after = await readFile(join(out, 'execve/x86_64/execve_debian_6.1.0-50-cloud-amd64.o'));
    assert.ok(before.equals(after));
    const newIndex = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
    assert.equal(newIndex.artifacts.length, 5);
    assert.equal(newIndex.failures[0]?.kernel.release, '6.1.0-999-amd64');
  });

  it('a compile error fails that kernel alone and keeps the compiler\'s message', async () => {
    // A probe that only breaks against 6.12 headers: the other kernel and CO-RE still build.
    await writeBreakingProbe(work);
    const kernels = join(work, 'breaks.yaml');
    await writeFile(
      kernels,
      `probes:\n  - { name: breaks, source: probes/breaks/execve.bpf.c }\nkernels:\n` +
        `  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64, btf: true }\n  - { distro: debian, release: 6.12.117+deb13-cloud-amd64, arch: x86_64, btf: true }\n`,
    );
    const result = await kbuild(['build', '--kernels', kernels, '--out', join(work, 'out-breaks'), '--json']);
    assert.equal(result.exitCode, 1, result.stderr);
    const summary = JSON.parse(result.stdout) as { built: number; failed: number; jobs: { job: string; status: string; error?: { code: string; output?: string } }[] };
    assert.equal(summary.built, 2);
    assert.equal(summary.failed, 1);
    const failed = summary.jobs.find((j) => j.status === 'failed');
    assert.match(failed?.job ?? '', /6\.12\.117/);
    assert.equal(failed?.error?.code, 'E_COMPILE');
    assert.match(failed?.error?.output ?? '', /use of undeclared identifier 'undeclared_on_612'/);
    const failures = ArtifactIndex.parse(JSON.parse(await readFile(join(work, 'out-breaks/index.json'), 'utf8'))).failures;
    assert.match(failures[0]?.message ?? '', /undeclared_on_612/);
  });

  it('bad input exits 2 with a specific error and leaves the store untouched', async () => {
    const indexBefore = await readFile(join(out, 'index.json'));
    const cases: [string, RegExp][] = [
      ['probes: [\n', /kernels\.yaml:\d+:\d+: malformed YAML/],
      [KERNELS.replace('arch: arm64, btf: true }', 'arch: arm64, btf: true, flavour: x }'), /kernels\[2\]: unknown field "flavour"/],
      [KERNELS.replace('distro: debian, release: 6.1.0-50-arm64, arch', 'distro: gentoo, release: 6.1.0-50-arm64, arch'), /kernels\[2\]\.distro: unknown distro "gentoo"/],
      [KERNELS.replace('release: 6.1.0-50-arm64, arch', 'release: "../../6.1", arch'), /kernels\[2\]\.release: release contains "\/"/],
      [KERNELS.replace('release: 6.1.0-50-arm64, arch', 'release: "6.1..0", arch'), /kernels\[2\]\.release: release contains "\.\."/],
    ];
    for (const [text, expected] of cases) {
      await writeFile(join(work, 'kernels.yaml'), text);
      const result = await run([]);
      assert.equal(result.exitCode, 2, `${expected}: ${result.stderr}`);
      assert.match(result.stderr, expected);
    }
    assert.ok(indexBefore.equals(await readFile(join(out, 'index.json'))), 'index untouched');
  });

  it('an interrupted build exits 130 and leaves an index that matches the store', async () => {
    await writeFile(join(work, 'kernels.yaml'), KERNELS);
    // A changed probe makes every job rebuild; stop the run once the first job is done.
    await writeFile(join(work, 'probes/execve/execve.bpf.c'), `${await readFile(join(work, 'probes/execve/execve.bpf.c'), 'utf8')}\n/* changed */\n`);
    const child = execa('node', [CLI, 'build', '--kernels', join(work, 'kernels.yaml'), '--out', out, '--no-verify'], { reject: false, forceKillAfterDelay: false, env: { PATH: tools.path } });
    let stderr = '';
    await new Promise<void>((resolveFirst) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/\[1\/5\]/.test(stderr)) resolveFirst();
      });
      void child.then(() => resolveFirst());
    });
    child.kill('SIGTERM');
    const result = await child;
    assert.equal(result.exitCode, 130, String(result.stderr));
    assert.match(String(result.stderr), /interrupted after \d+ of 5 jobs/);
    const after = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
    assert.equal(after.artifacts.length, 5, 'every artifact is still listed, old or new');
    for (const artifact of after.artifacts) {
      assert.equal(sha256(await readFile(join(out, artifact.path))), artifact.sha256, `${artifact.path} matches the index`);
    }
    const leftovers = (await readdir(out, { recursive: true })).filter((name) => String(name).includes('.tmp-'));
    assert.deepEqual(leftovers, []);
  });
});

