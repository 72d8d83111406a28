import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { xz } from '@napi-rs/lzma';
import tarStream from 'tar-stream';
import { buildDeb } from '../../test/helpers/apt-mirror.js';
import { ArchiveError } from '../errors.js';
import { run } from '../exec/exec.js';
import { listArMembers } from './ar.js';
import { extractDebMember, extractDebPrefix, safeSymlinkTarget } from './deb.js';

type TarEntry = { name: string; type?: 'file' | 'symlink' | 'link' | 'directory' | 'character-device'; linkname?: string; body?: string };

async function tarOf(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const { body, ...header } of entries) pack.entry({ type: 'file', ...header }, body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

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

describe('deb extraction', () => {
  let work = '';
  let n = 0;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-deb-'));
  });
  after(async () => rm(work, { recursive: true, force: true }));

  async function debOf(entries: readonly TarEntry[], compression: 'xz' | 'gz' | 'zst' | 'none' = 'xz'): Promise<string> {
    const tar = await tarOf(entries);
    const path = join(work, `t${++n}.deb`);
    let data: [string, Buffer];
    if (compression === 'xz') data = ['data.tar.xz', await xz.compress(tar)];
    else if (compression === 'gz') data = ['data.tar.gz', gzipSync(tar)];
    else if (compression === 'none') data = ['data.tar', tar];
    else {
      await writeFile(`${path}.tar`, tar);
      await run('zstd', ['-q', '-f', '-o', `${path}.tar.zst`, `${path}.tar`]);
      data = ['data.tar.zst', await readFile(`${path}.tar.zst`)];
    }
    await writeFile(path, arOf([['debian-binary', Buffer.from('2.0\n')], ['control.tar.gz', gzipSync(await tarOf([]))], data]));
    return path;
  }

  /** A fresh sandbox with dest inside it: anything that escapes dest shows up beside it. */
  async function sandbox(): Promise<{ root: string; dest: string }> {
    const root = join(work, `sandbox${++n}`);
    await mkdir(root);
    return { root, dest: join(root, 'dest') };
  }

  it('extracts only the prefix of a real dpkg-deb package, keeping relative links', async () => {
    const built = await buildDeb(work, {
      name: 'linux-headers-9.9.0-1-common',
      version: '9.9-1',
      arch: 'all',
      files: { 'usr/src/linux-headers-9.9.0-1-common/include/linux/a.h': '#define A 1\n', 'usr/share/doc/x/copyright': 'c' },
      symlinks: {
        'usr/src/linux-headers-9.9.0-1-common/scripts': '../../lib/linux-kbuild-9.9/scripts',
        'usr/src/linux-headers-9.9.0-1-common/include/linux/b.h': 'a.h',
      },
    });
    const { root, dest } = await sandbox();
    const stats = await extractDebPrefix(join(work, 'mirror', built.filename), 'usr/src/', dest);
    const tree = join(dest, 'usr/src/linux-headers-9.9.0-1-common');
    assert.equal(await readFile(join(tree, 'include/linux/b.h'), 'utf8'), '#define A 1\n');
    assert.equal(await readlink(join(tree, 'scripts')), '../../lib/linux-kbuild-9.9/scripts');
    assert.deepEqual(await readdir(join(dest, 'usr')), ['src']);
    assert.deepEqual(await readdir(root), ['dest']);
    assert.equal(stats.files, 1);
    assert.equal(stats.symlinks, 2);
  });

  for (const compression of ['xz', 'gz', 'zst', 'none'] as const) {
    it(`reads data.tar${compression === 'none' ? '' : `.${compression}`}`, async () => {
      const deb = await debOf([{ name: './usr/src/k/Makefile', body: 'all:\n' }], compression);
      const { dest } = await sandbox();
      await extractDebPrefix(deb, 'usr/src/', dest);
      assert.equal(await readFile(join(dest, 'usr/src/k/Makefile'), 'utf8'), 'all:\n');
    });
  }

  for (const name of ['../x', 'usr/src/../../x', '/abs', 'usr/src/a/../../../x']) {
    it(`refuses the entry ${name} and writes nothing outside dest`, async () => {
      const deb = await debOf([{ name: 'usr/src/ok', body: 'ok' }, { name, body: 'pwned' }]);
      const { root, dest } = await sandbox();
      await assert.rejects(extractDebPrefix(deb, 'usr/src/', dest), ArchiveError);
      assert.deepEqual(await readdir(root), ['dest']);
    });
  }

  it('drops links that leave dest, keeps those inside, skips devices', async () => {
    const deb = await debOf([
      { name: 'usr/src/k/real', body: 'data' },
      { name: 'usr/src/k/etc', type: 'symlink', linkname: '/etc' },
      { name: 'usr/src/k/up', type: 'symlink', linkname: '../../../..' },
      { name: 'usr/src/k/sneaky', type: 'symlink', linkname: 'sub/../../../../..' },
      { name: 'usr/src/k/kbuild', type: 'symlink', linkname: '../../lib/kbuild/scripts' },
      { name: 'usr/src/k/hard', type: 'link', linkname: 'usr/src/k/real' },
      { name: 'usr/src/k/hard-out', type: 'link', linkname: '../../etc/passwd' },
      { name: 'usr/src/k/hard-abs', type: 'link', linkname: '/etc/passwd' },
      { name: 'usr/src/k/hard-unwritten', type: 'link', linkname: 'usr/share/doc/x' },
      { name: 'usr/src/k/null', type: 'character-device' },
    ]);
    const { root, dest } = await sandbox();
    const stats = await extractDebPrefix(deb, 'usr/src/', dest);
    const k = join(dest, 'usr/src/k');
    assert.deepEqual((await readdir(k)).sort(), ['hard', 'kbuild', 'real']);
    assert.equal(await readFile(join(k, 'hard'), 'utf8'), 'data');
    assert.equal((await lstat(join(k, 'hard'))).nlink, 2);
    assert.equal(stats.droppedLinks.length, 6);
    assert.equal(stats.skippedSpecial, 1);
    assert.deepEqual(await readdir(root), ['dest']);
  });

  it('refuses to write through a symlink, even one pointing inside dest', async () => {
    const deb = await debOf([
      { name: 'usr/src/k/dir', type: 'directory' },
      { name: 'usr/src/k/alias', type: 'symlink', linkname: 'dir' },
      { name: 'usr/src/k/alias/file', body: 'through' },
    ]);
    const { dest } = await sandbox();
    await assert.rejects(extractDebPrefix(deb, 'usr/src/', dest), /write through non-folder/);
  });

  it('checks the symlink target rule directly', () => {
    assert.equal(safeSymlinkTarget('usr/src/a/scripts', '../../lib/x'), true);
    assert.equal(safeSymlinkTarget('usr/src/a/b', '../../../x'), true);
    assert.equal(safeSymlinkTarget('usr/src/a/b', '../../../../x'), false);
    assert.equal(safeSymlinkTarget('usr/src/a/b', 'c/../../x'), false);
    assert.equal(safeSymlinkTarget('usr/src/a/b', '/usr/src'), false);
  });

  it('extracts one member without the rest', async () => {
    const deb = await debOf([
      { name: './boot/System.map-9.9.0-1-amd64', body: 'map' },
      { name: './boot/vmlinuz-9.9.0-1-amd64', body: 'MZ kernel' },
      { name: './boot/link', type: 'symlink', linkname: 'vmlinuz-9.9.0-1-amd64' },
    ]);
    const { root } = await sandbox();
    await extractDebMember(deb, 'boot/vmlinuz-9.9.0-1-amd64', join(root, 'vmlinuz'));
    assert.equal(await readFile(join(root, 'vmlinuz'), 'utf8'), 'MZ kernel');
    assert.deepEqual(await readdir(root), ['vmlinuz']);
    await assert.rejects(extractDebMember(deb, 'boot/vmlinuz-other', join(root, 'x')), /no boot\/vmlinuz-other/);
    await assert.rejects(extractDebMember(deb, 'boot/link', join(root, 'y')), /symlink, not a regular file/);
    assert.deepEqual(await readdir(root), ['vmlinuz']);
  });

  it('refuses malformed ar containers', async () => {
    const cases: [string, Buffer][] = [
      ['not ar', Buffer.from('PK\x03\x04 zip')],
      ['long names', arOf([['//', Buffer.from('x')]])],
      ['bad name', arOf([['../evil', Buffer.from('x')]])],
      ['past end', Buffer.concat([arOf([['debian-binary', Buffer.from('2.0\n')]]).subarray(0, 70)])],
    ];
    for (const [label, bytes] of cases) {
      const path = join(work, `ar-${label.replace(/ /g, '-')}`);
      await writeFile(path, bytes);
      await assert.rejects(listArMembers(path), ArchiveError, label);
    }
    const noDebianBinary = join(work, 'no-db.deb');
    await writeFile(noDebianBinary, arOf([['data.tar', await tarOf([])]]));
    await assert.rejects(extractDebPrefix(noDebianBinary, 'usr/src/', join(work, 'nd')), /not a \.deb/);
  });
});
