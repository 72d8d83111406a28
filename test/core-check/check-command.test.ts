import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex, pick, type HostIdentity } from '@kbuild/loader';
import { writeIndex } from '../../src/runner/write-index.js';
import { FsStore } from '../../src/store/fs-store.js';
import { kbuild } from '../helpers/cli.js';
import { indexOf } from '../helpers/index-fixtures.js';
import { CHECK_KERNELS, compileFixture, coreArtifact, FIXTURES } from './fixtures.js';

const host = (release: string): HostIdentity => ({ distro: 'debian', release, version: '#1 SMP Debian', arch: 'x86_64', hasBtf: true });

// `kbuild check` as a user runs it, on a folder store holding two real CO-RE objects, against three real Debian kernels.
describe('kbuild check over a store', { timeout: 10 * 60 * 1000 }, () => {
  let dir: string;
  let out: { exitCode: number; stdout: string; stderr: string };
  let index: ArtifactIndex;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kbuild-check-cli-'));
    const storeDir = join(dir, 'store');
    await mkdir(join(storeDir, 'core/x86_64'), { recursive: true });
    const store = new FsStore(storeDir);
    const artifacts = [];
    for (const name of ['renamed', 'guarded'] as const) {
      const file = await compileFixture(name, dir);
      await store.putBytes(`core/x86_64/${name}.o`, await readFile(file));
      artifacts.push(await coreArtifact(name, file));
    }
    await writeIndex(store, indexOf(artifacts));
    await store.close();
    const kernels = Object.values(CHECK_KERNELS).map((k) => `  - { distro: debian, release: ${k.release}, arch: x86_64, btf: true }`).join('\n');
    await cp(FIXTURES, join(dir, 'probes/renamed'), { recursive: true });
    await writeFile(join(dir, 'kernels.yaml'), `probes:\n  - name: renamed\n    source: probes/renamed/renamed.bpf.c\nbtf:\n  sources: [image]\nkernels:\n${kernels}\n  - { distro: debian, release: 6.1.0-9999-cloud-amd64, arch: x86_64, btf: true }\n`);
    out = await kbuild(['check', '--store', storeDir, '--kernels', join(dir, 'kernels.yaml'), '--json'], { cwd: dir });
    index = ArtifactIndex.parse(JSON.parse(await readFile(join(storeDir, 'index.json'), 'utf8')));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('records compatible / incompatible / unknown per kernel in the index, and exits 1 for the incompatible object', () => {
    assert.equal(out.exitCode, 1, out.stderr);
    const summary = JSON.parse(out.stdout) as { checks: number; incompatible: number; unknown: number; compatible: number };
    assert.deepEqual([summary.checks, summary.compatible, summary.incompatible, summary.unknown], [6, 5, 1, 2]);
    assert.equal(index.schemaVersion, 4);
    const renamed = index.artifacts.find((a) => a.probe === 'renamed')?.coreCheck ?? [];
    const on = (release: string) => renamed.find((c) => c.kernel.release === release);
    assert.equal(on(CHECK_KERNELS.bookworm.release)?.result, 'compatible');
    assert.equal(on(CHECK_KERNELS.trixie.release)?.result, 'incompatible');
    assert.deepEqual(on(CHECK_KERNELS.trixie.release)?.failures?.[0], { relocation: 'tracepoint/syscalls/sys_enter_execve#0', kind: 'byte_off', type: 'struct module', field: 'core_layout.base' });
    assert.equal(on(CHECK_KERNELS.trixie.release)?.btfSource, 'image');
    assert.equal(on('6.1.0-9999-cloud-amd64')?.result, 'unknown', 'a kernel the archive does not have has no BTF');
    const guarded = index.artifacts.find((a) => a.probe === 'guarded')?.coreCheck ?? [];
    assert.ok(guarded.filter((c) => c.result !== 'unknown').every((c) => c.result === 'compatible'));
  });

  it('pick refuses the object predicted incompatible with the host kernel and says why; it picks it where compatible', () => {
    const refused = pick(index, host(CHECK_KERNELS.trixie.release), 'renamed');
    assert.equal(refused.choice, undefined);
    assert.match(refused.rejected[0]?.reason ?? '', /predicted incompatible .* offline CO-RE check: relocation .*#0 \(byte_off\) of struct module\.core_layout\.base/);
    assert.equal(pick(index, host(CHECK_KERNELS.bookworm.release), 'renamed').choice?.mode, 'core');
    assert.equal(pick(index, host(CHECK_KERNELS.trixie.release), 'guarded').choice?.mode, 'core');
  });
});
