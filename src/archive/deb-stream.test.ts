import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArchiveError } from '../errors.js';
import { run } from '../exec/exec.js';
import { extractDebMember as streamDebMember } from './deb.js';
import { withDataTar } from './deb-stream.js';

/** A package laid out like linux-image-<release>-dbg, built by dpkg-deb with each compressor. */
let work: string;
const vmlinux = randomBytes(3 * 1024 * 1024 + 17);
const debs = new Map<string, string>();

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'kbuild-deb-stream-'));
  const root = join(work, 'root');
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await writeFile(join(root, 'DEBIAN', 'control'), 'Package: linux-image-9.9.9-1-amd64-dbg\nVersion: 9.9.9-1\nArchitecture: amd64\nMaintainer: kbuild tests <t@example.invalid>\nDescription: test\n');
  await mkdir(join(root, 'usr/lib/debug/boot'), { recursive: true });
  await writeFile(join(root, 'usr/lib/debug/boot/vmlinux-9.9.9-1-amd64'), vmlinux);
  await symlink('vmlinux-9.9.9-1-amd64', join(root, 'usr/lib/debug/boot/vmlinux-link'));
  await mkdir(join(root, 'usr/lib/debug/lib/modules/9.9.9-1-amd64'), { recursive: true });
  await writeFile(join(root, 'usr/lib/debug/lib/modules/9.9.9-1-amd64/big.ko'), Buffer.alloc(32 * 1024 * 1024, 7));
  for (const z of ['xz', 'zstd', 'gzip']) {
    const deb = join(work, `dbg-${z}.deb`);
    await run('dpkg-deb', ['--root-owner-group', `-Z${z}`, '--build', root, deb]);
    debs.set(z, deb);
  }
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('streaming one file out of a .deb', () => {
  for (const z of ['xz', 'zstd', 'gzip']) {
    it(`copies the vmlinux out of a data.tar.${z === 'gzip' ? 'gz' : z === 'zstd' ? 'zst' : 'xz'} byte for byte`, async () => {
      const out = join(work, `vmlinux-${z}`);
      const { size } = await streamDebMember(debs.get(z) ?? '', 'usr/lib/debug/boot/vmlinux-9.9.9-1-amd64', out);
      assert.equal(size, vmlinux.length);
      assert.ok((await readFile(out)).equals(vmlinux));
    });
  }

  it('names a missing member and refuses a link or a hostile path', async () => {
    const deb = debs.get('xz') ?? '';
    await assert.rejects(streamDebMember(deb, 'usr/lib/debug/boot/vmlinux-1.0', join(work, 'x')), (err) =>
      err instanceof ArchiveError && /no usr\/lib\/debug\/boot\/vmlinux-1\.0 in data\.tar\.xz/.test(err.message));
    await assert.rejects(streamDebMember(deb, 'usr/lib/debug/boot/vmlinux-link', join(work, 'y')), /is a symlink, not a regular file/);
    await assert.rejects(streamDebMember(deb, '../etc/passwd', join(work, 'z')), /escapes with "\.\."/);
  });
});

describe('withDataTar', () => {
  it('loses no entry to a consumer that awaits before it iterates (an uncompressed data.tar parses at once)', async () => {
    const deb = join(work, 'plain.deb');
    await run('dpkg-deb', ['--root-owner-group', '-Znone', '--build', join(work, 'root'), deb]);
    const names = await withDataTar(deb, async (entries) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const seen: string[] = [];
      for await (const entry of entries) {
        seen.push(entry.header.name);
        entry.resume();
      }
      return seen;
    }, { whole: true });
    assert.ok(names.includes('./usr/lib/debug/boot/vmlinux-9.9.9-1-amd64'), names.join(' '));
  });
});
