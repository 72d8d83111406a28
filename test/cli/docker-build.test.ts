import assert from 'node:assert/strict';
import { execa } from 'execa';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Docker from 'dockerode';
import { connectDocker } from '../../src/executor/docker-engine.js';
import { ArtifactIndex } from '@kbuild/loader';
import { loadIntoHostKernel } from '../helpers/bpffs.js';
import { CLI, kbuild, REPO_ROOT } from '../helpers/cli.js';
import { useDockerd } from '../helpers/dockerd.js';
import { threeDebianKernels } from '../helpers/kernel-sets.js';

// Real Debian kernels built in the Debian builder image (the file's per-distro default).
const KERNELS = threeDebianKernels('executors:\n  debian: docker\n');

interface ImagesReport {
  distro: string;
  ref: string;
  built: boolean;
  baseHow: string;
  durationMs: number;
}

/** Children first: kbuild's own image (test/deploy) and the builder image are built on the base, which cannot go while they stand. */
/**
 * The images this test makes from nothing, and every image built on them (the
 * engine keeps images between runs: kbuild's own, the farm's redis and rgw),
 * children first, else the engine refuses ("image has dependent child images").
 */
async function removeKbuildImages(docker: Docker): Promise<void> {
  const all = await docker.listImages({ all: true });
  const parentOf = new Map(all.map((i) => [i.Id, i.ParentId]));
  const depth = (id: string): number => {
    let n = 0;
    for (let p = parentOf.get(id); p !== undefined && p !== ''; p = parentOf.get(p)) n++;
    return n;
  };
  const descends = (id: string, roots: Set<string>): boolean => {
    for (let at: string | undefined = id; at !== undefined && at !== ''; at = parentOf.get(at)) if (roots.has(at)) return true;
    return false;
  };
  const roots = new Set<string>();
  for (const repo of ['kbuild/builder-debian', 'kbuild/base-debian']) {
    for (const image of await docker.listImages({ filters: { reference: [repo] } })) roots.add(image.Id);
  }
  const doomed = all.filter((i) => descends(i.Id, roots) || (i.RepoTags ?? []).some((t) => t.startsWith('kbuild/')));
  const last = (i: Docker.ImageInfo): number => ((i.RepoTags ?? []).some((t) => /^kbuild\/(base|builder)-/.test(t)) ? 1 : 0);
  for (const image of doomed.sort((a, b) => depth(b.Id) - depth(a.Id) || last(a) - last(b))) {
    await docker.getImage(image.Id).remove({ force: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err; // gone with a child removed before it
    });
  }
}

const leftContainers = (docker: Docker) => docker.listContainers({ all: true, filters: { label: ['kbuild.executor=docker'] } });

describe('Docker executor end to end: bootstrap image, real kernels, local vs docker (slow)', { timeout: 30 * 60_000 }, async () => {
  let dockerd: Awaited<ReturnType<typeof useDockerd>>;
  let docker: Docker;
  let work: string;
  let imageCache: string;
  let image: ImagesReport;
  let dockerIndex: ArtifactIndex;

  before(async () => {
    dockerd = await useDockerd();
    docker = await connectDocker();
    work = await mkdtemp(join(tmpdir(), 'kbuild-docker-e2e-'));
    // A cache of its own: the image is made from nothing, debootstrap included.
    imageCache = join(work, 'image-cache');
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), KERNELS);
  });
  after(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
    await dockerd?.stop();
  });

  const imagesBuild = async (): Promise<ImagesReport> => {
    const result = await kbuild(['images', 'build', '--distro', 'debian', '--json'], { env: { KBUILD_CACHE_DIR: imageCache } });
    assert.equal(result.exitCode, 0, result.stderr);
    const [report] = JSON.parse(result.stdout) as ImagesReport[];
    assert.ok(report !== undefined);
    // Progress on a pipe: every step as a `[distro] line` on stderr, and one line when the image is done.
    assert.match(result.stderr, new RegExp(`^\\[debian\\] ${report.ref.replace(/[/.]/g, '\\$&')} (built|up to date) \\([0-9.]+s\\)$`, 'm'));
    return report;
  };

  it('builds the builder image from scratch: debootstrap, import, Dockerfile', async () => {
    await removeKbuildImages(docker);
    image = await imagesBuild();
    assert.equal(image.baseHow, 'bootstrapped', 'no registry answers here');
    assert.equal(image.built, true);
    assert.match(image.ref, /^kbuild\/builder-debian:[0-9a-f]{16}$/);
    assert.ok((await stat(join(imageCache, 'docker-base', 'debian-bookworm-minbase-amd64', 'rootfs.tar'))).size > 10e6);
    console.log(`# cold image build: ${(image.durationMs / 1000).toFixed(1)}s`);

    const again = await imagesBuild();
    assert.deepEqual({ ref: again.ref, built: again.built, baseHow: again.baseHow }, { ref: image.ref, built: false, baseHow: 'present' });
  });

  it('builds real Debian kernels in it; the CO-RE object loads into this machine\'s kernel', async () => {
    const result = await kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--out', join(work, 'out-docker'), '--json']);
    assert.equal(result.exitCode, 0, result.stderr + result.stdout);
    const summary = JSON.parse(result.stdout) as { built: number; failed: number };
    assert.deepEqual({ built: summary.built, failed: summary.failed }, { built: 5, failed: 0 });
    dockerIndex = ArtifactIndex.parse(JSON.parse(await readFile(join(work, 'out-docker', 'index.json'), 'utf8')));
    for (const artifact of dockerIndex.artifacts) {
      assert.ok(artifact.toolchain.includes(`| image ${image.ref} sha256:`), artifact.toolchain);
      const bytes = await readFile(join(work, 'out-docker', artifact.path));
      assert.equal(bytes.readUInt16LE(18), 247, `${artifact.path} is a BPF object`);
    }
    const loaded = await loadIntoHostKernel(join(work, 'out-docker', 'core/x86_64/execve.o'));
    assert.ok(loaded.ok, loaded.output);
    assert.ok(loaded.programs.length >= 1);
    assert.deepEqual(await leftContainers(docker), [], 'every build container was removed');
  });

  it('the local executor gives byte-identical objects for the same kernels', async () => {
    const out = join(work, 'out-local');
    const result = await kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--out', out, '--executor', 'local', '--json']);
    assert.equal(result.exitCode, 0, result.stderr + result.stdout);
    const local = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
    const digests = (index: ArtifactIndex) => Object.fromEntries(index.artifacts.map((a) => [a.path, a.sha256]));
    assert.equal(local.artifacts.length, 5);
    assert.deepEqual(digests(local), digests(dockerIndex));
    for (const a of local.artifacts) {
      assert.doesNotMatch(a.toolchain, /image/, 'built by the host toolchain');
      assert.ok((await readFile(join(out, a.path))).equals(await readFile(join(work, 'out-docker', a.path))), a.path);
    }
  });

  it('says quickly and clearly when Docker is unavailable', async () => {
    const result = await kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--out', join(work, 'out-none')], {
      env: { DOCKER_HOST: `unix://${join(work, 'nothing.sock')}` },
    });
    assert.equal(result.exitCode, 1);
    assert.match(result.stderr, /kbuild: Docker engine at unix:\/\/.*nothing\.sock is unavailable/);
    assert.match(result.stderr, /Try this: .*scripts\/dockerd\.sh start/);
  });

  it('a stopped build (SIGTERM) removes its running containers', async () => {
    // 4^9 statements: clang needs many seconds, long enough to stop it mid-compile.
    const bomb = ['#define A0 x = x * 3 + 1;', ...Array.from({ length: 9 }, (_, i) => `#define A${i + 1} A${i} A${i} A${i} A${i}`)];
    const source = await readFile(join(work, 'probes/execve/execve.bpf.c'), 'utf8');
    await mkdir(join(work, 'probes/slow'), { recursive: true });
    await cp(join(work, 'probes/execve'), join(work, 'probes/slow'), { recursive: true });
    await writeFile(join(work, 'probes/slow/execve.bpf.c'), `${source}\n${bomb.join('\n')}\nint kbuild_slow(int x) { A9 return x; }\n`);
    const kernels = join(work, 'slow.yaml');
    await writeFile(kernels, KERNELS.replace('probes/execve/execve.bpf.c', 'probes/slow/execve.bpf.c').replace('name: execve', 'name: slow'));
    const child = execa('node', [CLI, 'build', '--kernels', kernels, '--out', join(work, 'out-slow'), '--concurrency', '1', '--no-verify'], { reject: false, forceKillAfterDelay: false });
    let running = false;
    for (let i = 0; i < 600 && !running; i += 1) {
      running = (await leftContainers(docker)).some((c) => c.State === 'running' && c.Command.startsWith('clang'));
      if (!running) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(running, 'a compile container ran');
    child.kill('SIGTERM');
    const result = await child;
    assert.equal(result.exitCode, 130, String(result.stderr));
    assert.deepEqual(await leftContainers(docker), [], 'no container left, running or stopped');
  });
});
