/** `kbuild btf extract|generate|minimize` as a user runs them (real image, real bpftool). */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_KERNELS } from '../helpers/kernel-images.js';
import { kbuild } from '../helpers/cli.js';
import { compileExampleCore } from '../btf/helpers.js';

const TIMEOUT = { timeout: 10 * 60 * 1000 };
const { release } = TEST_KERNELS.x86_64;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbuild-btf-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('kbuild btf', () => {
  it('extracts, generates (image source) and minimizes with a relocation check', TIMEOUT, async () => {
    const extracted = join(dir, 'extracted.btf');
    let result = await kbuild(['btf', 'extract', '--release', release, '--arch', 'x86_64', '-o', extracted, '--json']);
    assert.equal(result.exitCode, 0, result.stderr);
    const extract = JSON.parse(result.stdout) as { out: string; size: number; image: string };
    assert.equal(extract.out, extracted);
    assert.ok(extract.size > 1 << 20, `${extract.size} bytes of BTF`);
    // Progress on stderr, as plain lines on a pipe.
    assert.match(result.stderr, new RegExp(`^kbuild: fetching the debian ${release.replace(/\./g, '\\.')} x86_64 kernel image$`, 'm'));
    assert.match(result.stderr, /^kbuild: extracting BTF from \//m);
    const generated = join(dir, 'generated.btf');
    result = await kbuild(['btf', 'generate', '--release', release, '--arch', 'x86_64', '--sources', 'image', '-o', generated, '--json']);
    assert.equal(result.exitCode, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { source: string; sha256: string; package: { name: string } };
    assert.match(result.stderr, /^kbuild: full BTF of debian .* from the first of: image$/m);
    assert.match(result.stderr, /^kbuild: full BTF from image in [0-9.]+s$/m);
    assert.equal(summary.source, 'image');
    assert.ok((await readFile(extracted)).equals(await readFile(generated)));

    const core = await compileExampleCore(TEST_KERNELS.x86_64, dir);
    const minimized = join(dir, 'min.btf');
    result = await kbuild(['btf', 'minimize', '--btf', generated, '-o', minimized, '--json', core]);
    assert.equal(result.exitCode, 0, result.stderr);
    const check = (JSON.parse(result.stdout) as { relocationCheck: { result: string; relocations: number } }).relocationCheck;
    assert.equal(check.result, 'ok');
    assert.ok((await readFile(minimized)).length < 4096);
  });

  it('says which sources were tried when none has the kernel, and rejects unknown sources', async () => {
    let result = await kbuild(['btf', 'generate', '--release', release, '--arch', 'x86_64', '--sources', 'archive', '--archive', join(dir, 'none'), '-o', join(dir, 'x.btf')]);
    assert.equal(result.exitCode, 1);
    assert.match(result.stderr, /no BTF source has debian 6\.1\.0-50-cloud-amd64 x86_64:\n\s+archive: the BTF archive .* has no debian\/\*\/x86_64\/6\.1\.0-50-cloud-amd64\.btf\.tar\.xz/);
    result = await kbuild(['btf', 'generate', '--release', release, '--arch', 'x86_64', '--sources', 'image,hub', '-o', join(dir, 'x.btf')]);
    assert.equal(result.exitCode, 2);
    assert.match(result.stderr, /--sources: unknown source "hub"/);
  });
});
