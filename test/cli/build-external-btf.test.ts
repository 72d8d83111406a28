/**
 * Slow: a real build of kernels marked `btf: false` — the per-kernel jobs make
 * the minimized BTF of the CO-RE object, the store keeps one blob per distinct
 * BTF, the index lists them per kernel and the loader picks them.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex, pick } from '@kbuild/loader';
import { countingToolchain, kbuild, REPO_ROOT } from '../helpers/cli.js';

// Same flavour, two ABIs: the probe's few types have the same layout, so their minimized BTFs are identical.
// Plus one arm64 kernel: its CO-RE object is cross-compiled, minimized and checked offline on this x86_64 machine.
const KERNELS = ['6.1.0-47-amd64', '6.1.0-50-amd64', '6.1.0-47-cloud-amd64', '6.1.0-50-cloud-amd64'];
const ARM64 = '6.1.0-50-arm64';
const KERNELS_FILE = `probes:
  - name: execve
    source: probes/execve/execve.bpf.c
core:
  btfFrom:
    x86_64: { distro: debian, release: 6.1.0-50-cloud-amd64 }
    arm64: { distro: debian, release: ${ARM64} }
kernels:
${KERNELS.map((r) => `  - { distro: debian, release: ${r}, arch: x86_64, btf: false }`).join('\n')}
  - { distro: debian, release: ${ARM64}, arch: arm64, btf: false }
btf:
  sources: [image]
`;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('kbuild build with kernels lacking BTF (real Debian kernels, slow)', { timeout: 30 * 60 * 1000 }, () => {
  let work: string;
  let out: string;
  let index: ArtifactIndex;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-extbtf-'));
    out = join(work, 'out');
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), KERNELS_FILE);
  });
  after(() => rm(work, { recursive: true, force: true }));
  const build = () => kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--out', out, '--json']);

  it('lists a minimized, relocation-checked BTF per kernel, made for the stored CO-RE object', async () => {
    const result = await build();
    assert.equal(result.exitCode, 0, result.stderr + result.stdout);
    index = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
    assert.deepEqual(index.kernelBtf.map((k) => k.kernel.release).sort(), [...KERNELS, ARM64].sort());
    for (const { kernel, objects } of index.kernelBtf) {
      const core = index.artifacts.find((a) => a.path === `core/${kernel.arch}/execve.o`);
      assert.ok(core !== undefined);
      assert.equal(objects.length, 1, kernel.release);
      const [o] = objects;
      assert.equal(o?.kind, 'minimized');
      assert.equal(o?.core, core.path);
      assert.equal(o?.coreSha256, core.sha256, 'the per-kernel job compiled the very same CO-RE object');
      assert.equal(o?.relocationCheck.result, 'ok');
      assert.equal(o?.source.kind, 'image');
      const blob = await readFile(join(out, o?.btf.path ?? ''));
      assert.equal(sha256(blob), o?.btf.sha256);
      assert.ok(blob.length < 4096 && (o?.source.size ?? 0) > 1_000_000);
    }
  });

  it('stores identical minimized BTFs once (dedup)', async () => {
    const blobs = (await readdir(join(out, 'btf'))).filter((name) => name.endsWith('.btf')).sort();
    const listed = [...new Set(index.kernelBtf.map((k) => k.objects[0]?.btf.path))].sort();
    assert.deepEqual(blobs.map((b) => `btf/${b}`), listed);
    assert.equal(blobs.length, 3, `5 kernels, 3 layouts (amd64, cloud-amd64, arm64): ${blobs.join(', ')}`);
    const path = (release: string) => index.kernelBtf.find((k) => k.kernel.release === release)?.objects[0]?.btf.path;
    assert.equal(path('6.1.0-47-amd64'), path('6.1.0-50-amd64'));
    assert.equal(path('6.1.0-47-cloud-amd64'), path('6.1.0-50-cloud-amd64'));
    assert.notEqual(path('6.1.0-50-amd64'), path('6.1.0-50-cloud-amd64'));
  });

  it('lets the loader pick CO-RE + the minimized BTF on such a kernel, and kbuild pick shows its path', async () => {
    const coreOnly = { ...index, artifacts: index.artifacts.filter((a) => a.kind === 'core') };
    const host = { distro: 'debian', release: '6.1.0-47-cloud-amd64', version: '#1 SMP Debian 6.1.170-3', arch: 'x86_64', hasBtf: false } as const;
    const result = pick(coreOnly, host, 'execve');
    assert.equal(result.choice?.mode, 'core+external-btf');
    assert.equal(result.choice?.btf?.kind, 'minimized');
    assert.equal(result.choice?.btf?.path, index.kernelBtf.find((k) => k.kernel.release === host.release)?.objects[0]?.btf.path);
    await writeFile(join(work, 'core-only.json'), JSON.stringify(coreOnly));
    const cli = await kbuild(['pick', '--allow-unsigned', '--index', join(work, 'core-only.json'), '--distro', 'debian', '--release', host.release, '--arch', 'x86_64', '--btf', 'no']);
    assert.equal(cli.exitCode, 0, cli.stderr);
    assert.match(cli.stdout, /picked core\/x86_64\/execve\.o \[core\+external-btf\]/);
    assert.match(cli.stdout, new RegExp(`btf ${result.choice?.btf?.path ?? 'x'} \\[minimized, [0-9]+ bytes`));
  });

  it('skips everything on a rebuild, and rebuilds a kernel whose BTF blob went missing', async () => {
    const again = JSON.parse((await build()).stdout) as { built: number; skipped: number };
    // 2 CO-RE objects, 5 per-kernel objects, 5 external-BTF jobs.
    assert.deepEqual({ built: again.built, skipped: again.skipped }, { built: 0, skipped: 12 });
    const victim = index.kernelBtf.find((k) => k.kernel.release === '6.1.0-50-amd64')?.objects[0]?.btf.path ?? '';
    await rm(join(out, victim));
    const third = JSON.parse((await build()).stdout) as { built: number };
    assert.equal(third.built, 2, 'the external BTF of the two kernels sharing the blob is made again');
    assert.ok((await readFile(join(out, victim))).length > 0);
  });

  it('cuts the BTF for the stored CO-RE object of the same build id without compiling it again', async () => {
    await rm(join(out, 'btf/records/x86_64/execve_debian_6.1.0-50-amd64.json'));
    const tools = await countingToolchain(join(work, 'counting'));
    const result = await kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--out', out, '--json'], { env: { PATH: tools.path } });
    assert.equal(result.exitCode, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { built: number; jobs: { job: string; status: string }[] };
    assert.deepEqual(summary.jobs.filter((j) => j.status === 'built').map((j) => j.job), ['execve external BTF debian 6.1.0-50-amd64 x86_64']);
    assert.equal((await readFile(tools.log, 'utf8')).trim(), '', 'no compiler ran: the stored object was reused');
    const again = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
    const core = again.artifacts.find((a) => a.path === 'core/x86_64/execve.o');
    const entry = again.kernelBtf.find((k) => k.kernel.release === '6.1.0-50-amd64')?.objects[0];
    assert.equal(entry?.coreSha256, core?.sha256);
  });
});
