import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArchiveError } from '../errors.js';
import { run } from '../exec/exec.js';
import { LZ4_LEGACY_BLOCK_MAX, decodeLz4Legacy } from './lz4-legacy.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbuild-lz4-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Compresses with the reference implementation, the way the kernel build does (`lz4 -l`, plus -9 there). */
async function lz4Cli(data: Buffer, level: string): Promise<Buffer> {
  const input = join(dir, `in-${level}`);
  await writeFile(input, data);
  await run('lz4', ['-l', level, '-f', '-q', input, `${input}.lz4`]);
  return readFile(`${input}.lz4`);
}

/** Text-like data with long and overlapping matches, bigger than two legacy blocks. */
function repetitive(size: number): Buffer {
  const out = Buffer.alloc(size);
  let pos = 0;
  for (let line = 0; pos < size; line++) {
    pos += out.write(`struct task_struct_${line % 977} { int field_${line % 13}; } ${'a'.repeat(line % 300)}\n`, pos);
  }
  return out;
}

describe('decodeLz4Legacy against the lz4 CLI', () => {
  const cases: [string, () => Buffer][] = [
    ['random data over two blocks', () => randomBytes(2 * LZ4_LEGACY_BLOCK_MAX + 12_345)],
    ['repetitive data over two blocks', () => repetitive(2 * LZ4_LEGACY_BLOCK_MAX + 777)],
    ['a run of one byte (overlapping matches)', () => Buffer.alloc(3_000_000, 0x41)],
    ['a single byte', () => Buffer.from([7])],
    ['nothing', () => Buffer.alloc(0)],
  ];
  for (const [name, make] of cases) {
    for (const level of ['-1', '-9']) {
      it(`round-trips ${name} (${level})`, async () => {
        const data = make();
        const frame = await lz4Cli(data, level);
        assert.ok(decodeLz4Legacy(frame).equals(data));
      });
    }
  }

  it('reads concatenated frames and tolerates the kernel size trailer', async () => {
    const a = randomBytes(100_000);
    const b = repetitive(300_000);
    const trailer = Buffer.alloc(4);
    trailer.writeUInt32LE(a.length + b.length);
    const stream = Buffer.concat([await lz4Cli(a, '-1'), await lz4Cli(b, '-9'), trailer]);
    assert.ok(decodeLz4Legacy(stream, a.length + b.length).equals(Buffer.concat([a, b])));
  });
});

describe('decodeLz4Legacy on bad input', () => {
  const isCorrupt = (err: unknown): boolean => err instanceof ArchiveError && /truncated or corrupt LZ4 data/.test(err.message);

  it('rejects data without the legacy magic', () => {
    assert.throws(() => decodeLz4Legacy(Buffer.from('04224d18', 'hex')), /not an LZ4 legacy frame/);
  });

  it('rejects a frame cut in the middle of a block', async () => {
    const frame = await lz4Cli(repetitive(1_000_000), '-9');
    assert.throws(() => decodeLz4Legacy(frame.subarray(0, frame.length - 100)), isCorrupt);
  });

  it('rejects a block whose match reaches before the block start', () => {
    // One sequence: token 0x00 (no literals, match length 4), offset 1 with nothing decoded yet.
    const frame = Buffer.from('02214c18' + '03000000' + '000100', 'hex');
    assert.throws(() => decodeLz4Legacy(frame), (err: unknown) => isCorrupt(err) && /outside the block/.test(String(err)));
  });

  it('rejects a block that decodes to more than 8 MiB', () => {
    // Splice two blocks' worth of one byte into a single block by hand: a 16 MiB match.
    const sixteenMiB = 2 * LZ4_LEGACY_BLOCK_MAX;
    const extra = sixteenMiB - 4 - 15;
    const lengthBytes = [...Array<number>(Math.floor(extra / 255)).fill(255), extra % 255];
    const block = Buffer.from([0x1f, 0x41, 0x01, 0x00, ...lengthBytes, 0x10, 0x41]);
    const size = Buffer.alloc(4);
    size.writeUInt32LE(block.length);
    const frame = Buffer.concat([Buffer.from('02214c18', 'hex'), size, block]);
    assert.throws(() => decodeLz4Legacy(frame), (err: unknown) => isCorrupt(err) && /more than its limit/.test(String(err)));
  });
});
