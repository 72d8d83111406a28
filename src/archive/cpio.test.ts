import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ArchiveError } from '../errors.js';
import { extractCpio, readCpio } from './cpio.js';

interface Entry {
  readonly name: string;
  readonly mode: number;
  readonly data?: string;
  readonly ino?: number;
  readonly nlink?: number;
}

/** Encodes entries as cpio newc, as rpm writes payloads (cpio(5)). */
function newc(entries: readonly Entry[], trailer = true): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer): void => {
    parts.push(b);
    offset += b.length;
  };
  const pad = (): void => push(Buffer.alloc((4 - (offset % 4)) % 4));
  const all = trailer ? [...entries, { name: 'TRAILER!!!', mode: 0 }] : entries;
  all.forEach((e, i) => {
    const data = Buffer.from(e.data ?? '');
    const fields = [e.ino ?? i + 1, e.mode, 0, 0, e.nlink ?? 1, 0, data.length, 0, 0, 0, 0, Buffer.byteLength(e.name) + 1, 0];
    push(Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}`, 'latin1'));
    push(Buffer.from(`${e.name}\0`));
    pad();
    push(data);
    pad();
  });
  return Buffer.concat(parts);
}

const FILE = 0o100644;
const DIR = 0o040755;
const LINK = 0o120777;
const P = './usr/src/kernels/4.18.0-1.el8.x86_64';

describe('cpio newc', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const dest = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'kbuild-cpio-'));
    dirs.push(d);
    return join(d, 'out');
  };

  it('extracts files, folders, relative links and hard links under the prefix only', async () => {
    const out = await dest();
    const archive = newc([
      { name: './etc/passwd', mode: FILE, data: 'not wanted' },
      { name: P, mode: DIR },
      { name: `${P}/Makefile`, mode: FILE, data: 'VERSION = 4\n' },
      { name: `${P}/include/linux/a.h`, mode: FILE, data: '' , ino: 50, nlink: 2 },
      { name: `${P}/include/linux/b.h`, mode: FILE, data: '#define B 1\n', ino: 50, nlink: 2 },
      { name: `${P}/include/c.h`, mode: LINK, data: 'linux/b.h' },
      { name: `${P}/scripts`, mode: LINK, data: '/usr/lib/kbuild/scripts' },
    ]);
    assert.equal([...readCpio(archive)].length, 7);
    const stats = await extractCpio(archive, 'usr/src/kernels/', out);
    assert.deepEqual({ ...stats, droppedLinks: stats.droppedLinks.length }, { files: 2, directories: 1, symlinks: 1, hardlinks: 1, droppedLinks: 1, skippedSpecial: 0 });
    const tree = join(out, 'usr/src/kernels/4.18.0-1.el8.x86_64');
    assert.equal(await readFile(join(tree, 'include/linux/a.h'), 'utf8'), '#define B 1\n');
    assert.equal((await stat(join(tree, 'include/linux/a.h'))).ino, (await stat(join(tree, 'include/linux/b.h'))).ino);
    assert.equal(await readlink(join(tree, 'include/c.h')), 'linux/b.h');
    await assert.rejects(lstat(join(tree, 'scripts')), { code: 'ENOENT' });
    await assert.rejects(lstat(join(out, 'etc')), { code: 'ENOENT' });
  });

  it('refuses ".." and absolute entry names', async () => {
    await assert.rejects(extractCpio(newc([{ name: './usr/src/kernels/../../../x', mode: FILE, data: 'x' }]), 'usr/src/kernels/', await dest()), ArchiveError);
    await assert.rejects(extractCpio(newc([{ name: '/usr/src/kernels/x', mode: FILE, data: 'x' }]), 'usr/src/kernels/', await dest()), ArchiveError);
  });

  it('never writes through a symlink, even one it kept', async () => {
    const archive = newc([
      { name: `${P}/inc`, mode: LINK, data: '.' },
      { name: `${P}/inc/evil.h`, mode: FILE, data: 'x' },
    ]);
    await assert.rejects(extractCpio(archive, 'usr/src/kernels/', await dest()), /write through non-folder/);
  });

  it('refuses truncated archives and other cpio formats', () => {
    const whole = newc([{ name: `${P}/Makefile`, mode: FILE, data: 'x'.repeat(100) }]);
    assert.throws(() => [...readCpio(whole.subarray(0, 150))], /runs past the end|without its TRAILER/);
    assert.throws(() => [...readCpio(newc([{ name: 'a', mode: FILE }], false))], /without its TRAILER!!! entry/);
    const odc = Buffer.from(whole);
    odc.write('070707', 0, 'latin1');
    assert.throws(() => [...readCpio(odc)], /is not newc/);
  });
});
