import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArchiveError } from '../errors.js';
import { decompressBounded } from './bounded-decompress.js';
import { extractDebPrefix } from './deb.js';

/** The ar container as dpkg writes it: 60-byte headers, data padded to even length. */
function arOf(members: readonly [string, Buffer][]): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const [name, data] of members) {
    const header = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(data.length).padEnd(10)}\`\n`;
    parts.push(Buffer.from(header, 'latin1'), data);
    if (data.length % 2 === 1) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

describe('decompression bombs in packages', { timeout: 5 * 60_000 }, () => {
  let work = '';
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-bomb-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('a small .deb whose data.tar.xz expands to 2 GiB fails with an ArchiveError naming the package and the limit, in bounded memory', async () => {
    // 2 GiB of zeros compress to a few hundred kilobytes.
    const xz = join(work, 'data.tar.xz');
    await execa('sh', ['-c', `head -c 2147483648 /dev/zero | xz -0 -T1 > ${xz}`]);
    const deb = join(work, 'bomb_1.0_amd64.deb');
    await writeFile(deb, arOf([['debian-binary', Buffer.from('2.0\n')], ['control.tar.xz', Buffer.alloc(0)], ['data.tar.xz', await readFile(xz)]]));
    assert.ok((await stat(deb)).size < 1024 * 1024, 'the package is small');
    process.env['KBUILD_MAX_UNPACKED_BYTES'] = String(64 * 1024 * 1024);
    const rssBefore = process.memoryUsage().rss;
    try {
      await assert.rejects(extractDebPrefix(deb, 'usr/src/', join(work, 'out')), (err: Error) => {
        assert.ok(err instanceof ArchiveError, `${err.name}: ${err.message}`);
        assert.match(err.message, /bomb_1\.0_amd64\.deb: data\.tar\.xz expands to more than 67108864 bytes/);
        return true;
      });
    } finally {
      delete process.env['KBUILD_MAX_UNPACKED_BYTES'];
    }
    assert.ok(process.memoryUsage().rss - rssBefore < 512 * 1024 * 1024, 'memory stayed near the limit');
  });

  it('zstd and gzip payloads (rpm) stop at the limit too', async () => {
    for (const [format, tool] of [['zstd', 'zstd -1 -q'], ['gzip', 'gzip -1']] as const) {
      const packed = (await execa('sh', ['-c', `head -c 33554432 /dev/zero | ${tool}`], { encoding: 'buffer' })).stdout;
      await assert.rejects(decompressBounded(Buffer.from(packed), format, `kernel-devel.rpm: its ${format} payload`, 1024 * 1024), /kernel-devel\.rpm: its \w+ payload expands to more than 1048576 bytes/);
      assert.equal((await decompressBounded(Buffer.from(packed), format, 'x', 64 * 1024 * 1024)).length, 33554432);
    }
  });
});
