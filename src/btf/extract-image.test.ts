/**
 * Slow: needs the real Debian 6.1.0-50 images (about 47 MB, downloaded once
 * into the kbuild cache) and lz4, objcopy, cc, gzip, xz, zstd, bzip2, bpftool.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArchiveError } from '../errors.js';
import { run } from '../exec/exec.js';
import { NOT_ARM64_IMAGE, NOT_BZIMAGE, NO_BTF, TRUNCATED, UNKNOWN_COMPRESSION, extractBtfFromImage } from './extract-image.js';
import { TEST_KERNELS, testKernelImage } from '../../test/helpers/kernel-images.js';

let dir: string;
let x86Path: string;
let armPath: string;
let bzImage: Buffer;
let armImage: Buffer;
/** .BTF of the x86 vmlinux as the reference tools (lz4 CLI, objcopy) see it. */
let x86Reference: Buffer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbuild-btf-test-'));
  x86Path = await testKernelImage(TEST_KERNELS.x86_64);
  armPath = await testKernelImage(TEST_KERNELS.arm64);
  bzImage = await readFile(x86Path);
  armImage = await readFile(armPath);
  const start = (bzImage[0x1f1]! + 1) * 512 + bzImage.readUInt32LE(0x248);
  const payload = bzImage.subarray(start, start + bzImage.readUInt32LE(0x24c) - 4);
  await writeFile(join(dir, 'payload.lz4'), payload);
  await run('lz4', ['-d', '-f', '-q', join(dir, 'payload.lz4'), join(dir, 'vmlinux')]);
  await run('objcopy', ['-O', 'binary', '--only-section=.BTF', join(dir, 'vmlinux'), join(dir, 'reference.btf')]);
  x86Reference = await readFile(join(dir, 'reference.btf'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, data: Buffer): Promise<string> {
  await writeFile(join(dir, name), data);
  return join(dir, name);
}

/** The real bzImage's setup code with another payload (+ the kernel's size trailer) in place of its own. */
async function bzImageWith(name: string, payload: Buffer, decompressedSize: number): Promise<string> {
  const head = Buffer.from(bzImage.subarray(0, (bzImage[0x1f1]! + 1) * 512 + bzImage.readUInt32LE(0x248)));
  head.writeUInt32LE(payload.length + 4, 0x24c);
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32LE(decompressedSize);
  return write(name, Buffer.concat([head, payload, trailer, Buffer.alloc(4096)]));
}

function archiveError(fragment: string, detail?: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ArchiveError, `expected an ArchiveError, got ${String(err)}`);
    assert.ok(err.message.includes(fragment), err.message);
    if (detail !== undefined) assert.match(err.message, detail);
    return true;
  };
}

async function assertBpftoolReads(btf: Buffer, name: string, mustContain: readonly string[]): Promise<void> {
  const { stdout } = await run('bpftool', ['btf', 'dump', 'file', await write(name, btf)]);
  for (const text of mustContain) assert.ok(stdout.includes(text), `bpftool output lacks ${text}`);
}

describe('x86_64 bzImage', () => {
  it('returns the .BTF section of the real 6.1.0-50-cloud-amd64 vmlinux, byte for byte', async (t) => {
    const started = performance.now();
    const btf = await extractBtfFromImage(x86Path, 'x86_64');
    t.diagnostic(`x86_64: ${btf.length} bytes of BTF in ${Math.round(performance.now() - started)} ms`);
    assert.deepEqual([...btf.subarray(0, 3)], [0x9f, 0xeb, 1]);
    assert.ok(btf.equals(x86Reference));
    await assertBpftoolReads(btf, 'x86.btf', ["STRUCT 'task_struct'", "STRUCT 'pt_regs'"]);
  });

  describe('other payload compressions, around an ELF whose .BTF is the real one', () => {
    let elf: string;
    before(async () => {
      await run('cc', ['-c', '-x', 'c', '/dev/null', '-o', join(dir, 'empty.o')]);
      elf = join(dir, 'with-btf.o');
      await run('objcopy', ['--add-section', `.BTF=${join(dir, 'reference.btf')}`, join(dir, 'empty.o'), elf]);
    });
    // The flags the kernel's own Makefiles use (scripts/Makefile.lib: cmd_gzip, cmd_xzkern, cmd_zstd22, cmd_lz4).
    const tools: [string, string, (input: string) => string[]][] = [
      ['gzip', 'gz', (f) => ['gzip', '-n', '-f', '-k', '-9', f]],
      ['xz', 'xz', (f) => ['xz', '-k', '-f', '--check=crc32', '--x86', '--lzma2=dict=32MiB', f]],
      ['zstd', 'zst', (f) => ['zstd', '-q', '-f', '-19', f, '-o', `${f}.zst`]],
      ['lz4', 'lz4', (f) => ['lz4', '-l', '-9', '-f', '-q', f, `${f}.lz4`]],
    ];
    for (const [name, ext, command] of tools) {
      it(`decodes a ${name} payload`, async () => {
        const [tool, ...args] = command(elf);
        await run(tool!, args);
        const original = await readFile(elf);
        const image = await bzImageWith(`${name}.bzImage`, await readFile(`${elf}.${ext}`), original.length);
        assert.ok((await extractBtfFromImage(image, 'x86_64')).equals(x86Reference));
      });
    }

    it('names a compression it does not decode', async () => {
      await run('bzip2', ['-k', '-f', elf]);
      const image = await bzImageWith('bzip2.bzImage', await readFile(`${elf}.bz2`), 1000);
      await assert.rejects(extractBtfFromImage(image, 'x86_64'), archiveError(UNKNOWN_COMPRESSION, /bzip2/));
    });

    it('says the kernel lacks CONFIG_DEBUG_INFO_BTF when vmlinux has no .BTF', async () => {
      const empty = join(dir, 'empty.o');
      await run('gzip', ['-n', '-f', '-k', empty]);
      const image = await bzImageWith('nobtf.bzImage', await readFile(`${empty}.gz`), (await readFile(empty)).length);
      await assert.rejects(extractBtfFromImage(image, 'x86_64'), archiveError(NO_BTF, /CONFIG_DEBUG_INFO_BTF/));
    });
  });

  it('reports an image cut short as truncated', async () => {
    const image = await write('cut.bzImage', bzImage.subarray(0, 5_000_000));
    await assert.rejects(extractBtfFromImage(image, 'x86_64'), archiveError(`${TRUNCATED} image`));
  });

  it('reports an LZ4 stream cut short as truncated, even inside a consistent boot header', async () => {
    const payload = await readFile(join(dir, 'payload.lz4'));
    const vmlinuxSize = (await readFile(join(dir, 'vmlinux'))).length;
    const image = await bzImageWith('half.bzImage', payload.subarray(0, payload.length >> 1), vmlinuxSize);
    await assert.rejects(extractBtfFromImage(image, 'x86_64'), archiveError(TRUNCATED, /LZ4/));
  });

  it('refuses a file that is not a bzImage', async () => {
    await assert.rejects(extractBtfFromImage(armPath, 'x86_64'), archiveError(NOT_BZIMAGE));
  });
});

describe('arm64 Image', () => {
  let armBtf: Buffer;
  before(async () => {
    armBtf = await extractBtfFromImage(armPath, 'arm64');
  });

  it('returns a BTF blob of the real 6.1.0-50-arm64 image that bpftool reads', async (t) => {
    const started = performance.now();
    armBtf = await extractBtfFromImage(armPath, 'arm64');
    t.diagnostic(`arm64: ${armBtf.length} bytes of BTF in ${Math.round(performance.now() - started)} ms`);
    assert.ok(armImage.includes(armBtf));
    await assertBpftoolReads(armBtf, 'arm64.btf', ["STRUCT 'task_struct'", "STRUCT 'user_pt_regs'"]);
  });

  it('gunzips an Image shipped as gzip first', async () => {
    await run('gzip', ['-n', '-f', '-k', '-1', await write('Image', armImage)]);
    const btf = await extractBtfFromImage(join(dir, 'Image.gz'), 'arm64');
    assert.ok(btf.equals(armBtf));
  });

  it('skips a BTF magic that does not start a valid blob', async () => {
    // A plausible header (hdr_len 24, one 12-byte type, 4 bytes of strings) whose type has kind 0.
    const fake = Buffer.from('9feb0100' + '18000000' + '00000000' + '0c000000' + '0c000000' + '04000000' + '00'.repeat(16), 'hex');
    const image = Buffer.from(armImage);
    fake.copy(image, 0x10000);
    const btf = await extractBtfFromImage(await write('decoy.Image', image), 'arm64');
    assert.ok(btf.equals(armBtf));
  });

  it('says the kernel lacks CONFIG_DEBUG_INFO_BTF when no blob is found', async () => {
    const image = Buffer.from(armImage);
    image.fill(0, armImage.indexOf(armBtf.subarray(0, 24)), armImage.indexOf(armBtf.subarray(0, 24)) + 2);
    const path = await write('nobtf.Image', image);
    await assert.rejects(extractBtfFromImage(path, 'arm64'), archiveError(NO_BTF, /CONFIG_DEBUG_INFO_BTF/));
  });

  it('reports an image cut inside the BTF blob as truncated', async () => {
    const path = await write('cut.Image', armImage.subarray(0, armImage.indexOf(armBtf.subarray(0, 24)) + 1_000_000));
    await assert.rejects(extractBtfFromImage(path, 'arm64'), archiveError(`${TRUNCATED} image`));
  });

  it('refuses a file that is not an arm64 Image', async () => {
    await assert.rejects(extractBtfFromImage(x86Path, 'arm64'), archiveError(NOT_ARM64_IMAGE));
  });
});
