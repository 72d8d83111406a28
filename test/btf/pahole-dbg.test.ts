/**
 * Slow: the first run downloads linux-image-6.1.0-50-cloud-amd64-dbg (~280 MB,
 * cached in the kbuild cache), streams its vmlinux out (~590 MB, deleted
 * after use) and runs `pahole -J` on it (~30 s); later runs read the cached BTF.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { debianBuilder } from '../../builders/debian/index.js';
import { compareRelocations, coreRelocations } from '../../src/btf/core-relocations.js';
import { obtainFullBtf } from '../../src/btf/full-btf.js';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { run } from '../../src/exec/exec.js';
import { TEST_KERNELS } from '../helpers/kernel-images.js';
import { compileExampleCore } from './helpers.js';

const SLOW = { timeout: 30 * 60 * 1000 };
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbuild-pahole-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('full BTF from the -dbg package with pahole (slow)', () => {
  it('gives the example probe the same CO-RE relocations as the BTF embedded in the image', SLOW, async () => {
    const kernel = TEST_KERNELS.x86_64;
    const context = { cacheDir: cacheRoot() };
    const dbg = await obtainFullBtf(kernel, { builder: debianBuilder, context, sources: ['dbg'] });
    assert.equal(dbg.source, 'dbg');
    assert.equal(dbg.package?.name, `linux-image-${kernel.release}-dbg`);
    const image = await obtainFullBtf(kernel, { builder: debianBuilder, context, sources: ['image'] });
    assert.notEqual(dbg.sha256, image.sha256, 'two independent encodings (pahole here, the kernel build there)');
    const { stdout } = await run('bpftool', ['btf', 'dump', 'file', dbg.path]);
    assert.match(stdout, /^\[[0-9]+\] STRUCT 'task_struct'/m);

    const core = await compileExampleCore(kernel, dir);
    const fromImage = await coreRelocations(image.path, [core]);
    const fromDbg = await coreRelocations(dbg.path, [core]);
    assert.ok(fromImage.length > 10);
    assert.ok(fromImage.every((r) => r.matches.length > 0), 'every relocation resolves against the image BTF');
    assert.deepEqual(compareRelocations(fromImage, fromDbg), { result: 'ok', relocations: fromImage.length });
  });
});
