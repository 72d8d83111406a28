/**
 * Real kernels, real tools: BTF from real Debian images, BTFgen with
 * bpftool, libbpf's relocations, and a load into this machine's kernel with
 * btf_custom_path (needs root).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { debianBuilder } from '../../builders/debian/index.js';
import { coreRelocations, compareRelocations } from '../../src/btf/core-relocations.js';
import { obtainFullBtf } from '../../src/btf/full-btf.js';
import { checkMinimized, minimizeBtf } from '../../src/btf/minimize.js';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { run } from '../../src/exec/exec.js';
import { HOST_BTF_PATH } from '@kbuild/loader/internal';
import { loadWithCustomBtf } from '../helpers/btf-custom-load.js';
import { TEST_KERNELS } from '../helpers/kernel-images.js';
import { compileExampleCore } from './helpers.js';

const TIMEOUT = { timeout: 10 * 60 * 1000 };
const isRoot = process.getuid?.() === 0;
let dir: string;
let coreX86: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbuild-ext-btf-'));
  coreX86 = await compileExampleCore(TEST_KERNELS.x86_64, dir);
}, TIMEOUT);
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('BTF from real Debian kernel images', () => {
  for (const arch of ['x86_64', 'arm64'] as const) {
    it(`${arch}: ${TEST_KERNELS[arch].release} gives BTF that bpftool parses, with task_struct`, TIMEOUT, async () => {
      const full = await obtainFullBtf(TEST_KERNELS[arch], { builder: debianBuilder, context: { cacheDir: cacheRoot() }, sources: ['image'] });
      assert.equal(full.source, 'image');
      assert.match(full.package?.name ?? '', /^linux-image-6\.1\.0-50-(cloud-amd64-unsigned|arm64-unsigned|arm64)$/);
      const { stdout } = await run('bpftool', ['btf', 'dump', 'file', full.path]);
      assert.match(stdout, /^\[[0-9]+\] STRUCT 'task_struct' size=[0-9]+/m);
      assert.ok(full.size > 1_000_000, `a whole kernel's BTF, got ${full.size} bytes`);
    });
  }
});

describe('minimized BTF (BTFgen) and the relocation check', () => {
  it('cuts the full BTF to a few types and libbpf relocates identically against both', TIMEOUT, async () => {
    const full = await obtainFullBtf(TEST_KERNELS.x86_64, { builder: debianBuilder, context: { cacheDir: cacheRoot() }, sources: ['image'] });
    const out = join(dir, 'min-6.1.btf');
    await minimizeBtf(full.path, [coreX86], out);
    const size = (await readFile(out)).length;
    assert.ok(size < 4096 && size * 1000 < full.size, `minimized ${size} bytes from ${full.size}`);
    const check = await checkMinimized(full.path, out, [coreX86]);
    assert.deepEqual({ result: check.result, detail: check.detail }, { result: 'ok', detail: undefined });
    assert.ok(check.relocations > 10, `the probe has many relocations, got ${check.relocations}`);
  });

  it('reports a mismatch when the BTF is another kernel\'s (5.10: other offsets)', TIMEOUT, async () => {
    const k510 = { distro: 'debian', release: '5.10.0-32-cloud-amd64', arch: 'x86_64' } as const;
    const full61 = await obtainFullBtf(TEST_KERNELS.x86_64, { builder: debianBuilder, context: { cacheDir: cacheRoot() }, sources: ['image'] });
    const full510 = await obtainFullBtf(k510, { builder: debianBuilder, context: { cacheDir: cacheRoot() }, sources: ['image'] });
    const check = compareRelocations(await coreRelocations(full61.path, [coreX86]), await coreRelocations(full510.path, [coreX86]));
    assert.equal(check.result, 'failed');
    assert.match(check.detail ?? '', /task_struct\.fs \(@ offset [0-9]+\) vs .*task_struct\.fs \(@ offset [0-9]+\)/);
  });
});

describe('loading with btf_custom_path', { skip: isRoot ? false : 'needs root to load BPF programs' }, () => {
  it("loads the CO-RE object into this kernel with the minimized BTF of this very kernel", TIMEOUT, async () => {
    const minimized = join(dir, 'host-min.btf');
    await minimizeBtf(HOST_BTF_PATH, [coreX86], minimized);
    const check = await checkMinimized(HOST_BTF_PATH, minimized, [coreX86]);
    assert.equal(check.result, 'ok', check.detail);
    const load = await loadWithCustomBtf(coreX86, minimized);
    assert.ok(load.ok, load.log.slice(-3000));
    // libbpf took its targets from the custom BTF: task_struct has the minimized BTF's type id, not the kernel's.
    const dumped = (await run('bpftool', ['btf', 'dump', 'file', minimized])).stdout;
    const id = /^\[([0-9]+)\] STRUCT 'task_struct'/m.exec(dumped)?.[1];
    assert.ok(id !== undefined);
    assert.match(load.log, new RegExp(`found target candidate \\[${id}\\] struct task_struct in \\[vmlinux\\]`));
  });

  it('fails to load when the custom BTF lacks the types the object relocates against', TIMEOUT, async () => {
    // A BTF holding only `int`: every relocation of the probe is unresolvable.
    const tiny = join(dir, 'tiny.btf');
    const hdr = Buffer.alloc(24);
    const types = Buffer.alloc(16);
    const strings = Buffer.from('\0int\0', 'latin1');
    hdr.writeUInt16LE(0xeb9f, 0); hdr.writeUInt8(1, 2); hdr.writeUInt32LE(24, 4);
    hdr.writeUInt32LE(0, 8); hdr.writeUInt32LE(types.length, 12); hdr.writeUInt32LE(types.length, 16); hdr.writeUInt32LE(strings.length, 20);
    types.writeUInt32LE(1, 0); types.writeUInt32LE(1 << 24, 4); types.writeUInt32LE(4, 8); types.writeUInt32LE(32, 12);
    await writeFile(tiny, Buffer.concat([hdr, types, strings]));
    const load = await loadWithCustomBtf(coreX86, tiny);
    assert.equal(load.ok, false);
    assert.match(load.log, /relo #[0-9]+: no matching targets found|failed to resolve CO-RE relocation/);
  });
});
