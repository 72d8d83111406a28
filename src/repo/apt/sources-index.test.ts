import assert from 'node:assert/strict';
import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { xz } from '@napi-rs/lzma';
import tarStream from 'tar-stream';
import { extractSourceTarball } from '../../archive/source-tarball.js';
import { ArchiveError } from '../../errors.js';
import { compareDebianVersions, upstreamVersion } from './debian-version.js';
import { pickSource, upstreamTarball } from './source-package.js';
import { parseSourceStanzas, sourceSelection } from './sources-index.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

/** A stanza shaped like trixie's (fields trimmed), with the Checksums-Sha256 continuation lines. */
function stanza(pkg: string, version: string, directory: string, files: readonly string[]): string {
  return `Package: ${pkg}\nBinary: ${pkg}\nVersion: ${version}\nFormat: 3.0 (quilt)\nFiles:\n 0123 1 ignored.dsc\n` +
    `Checksums-Sha256:\n${files.map((f) => ` ${f}`).join('\n')}\nDirectory: ${directory}\nPriority: optional\n`;
}

const SOURCES = [
  stanza('libbpf', '1.5.0-3', 'pool/main/libb/libbpf', [`${A} 2203 libbpf_1.5.0-3.dsc`, `${B.toUpperCase()} 1063399 libbpf_1.5.0.orig.tar.gz`]),
  stanza('libbpf', '1.5.0-1', 'pool/main/libb/libbpf', [`${A} 2203 libbpf_1.5.0-1.dsc`, `${B} 1063 libbpf_1.5.0.orig.tar.gz`]),
  stanza('libbpf-tools', '1', 'pool/main/l/x', [`${A} 1 libbpf-tools_1.tar.xz`]),
  stanza('libbpf', '9-1', '../../etc', [`${A} 1 libbpf_9.orig.tar.gz`]),
  stanza('libbpf', '8-1', 'pool/main/l/../../x', [`${A} 1 libbpf_8.orig.tar.gz`]),
  stanza('libbpf', '7-1', 'pool/main/l/libbpf', [`${A} 1 ../libbpf_7.orig.tar.gz`]),
  stanza('libbpf', '6-1', 'pool/main/l/libbpf', [`${A} 1 libbpf 6.orig.tar.gz`]),
  stanza('libbpf', '5-1', 'pool/main/l/libbpf', [`${A} many libbpf_5.orig.tar.gz`]),
  stanza('libbpf', '4-1', 'http://evil/pool', [`${A} 1 libbpf_4.orig.tar.gz`]),
  stanza('libbpf', '3-1', 'pool/main/l/libbpf', [`${A} 1 sub/libbpf_3.orig.tar.gz`]),
  stanza('libbpf', '2-1', 'pool/main/l/libbpf', []),
].join('\n');

describe('Sources index parsing', () => {
  it('keeps the wanted stanzas and their checked files, and skips hostile ones', () => {
    const stanzas = parseSourceStanzas(SOURCES, sourceSelection(['libbpf']).wanted);
    assert.deepEqual(stanzas.map((s) => s.version), ['1.5.0-3', '1.5.0-1']);
    assert.deepEqual(stanzas[0]?.files.map((f) => [f.name, f.size, f.sha256]), [
      ['libbpf_1.5.0-3.dsc', 2203, A],
      ['libbpf_1.5.0.orig.tar.gz', 1063399, B],
    ]);
    assert.equal(stanzas[0]?.directory, 'pool/main/libb/libbpf');
  });

  it('selects exact package names only', () => {
    const { wanted } = sourceSelection(['libbpf-tools']);
    assert.deepEqual(parseSourceStanzas(SOURCES, wanted).map((s) => s.package), ['libbpf-tools']);
    assert.throws(() => sourceSelection(['a|.*']));
  });

  it('picks the newest Debian revision of an upstream version, or an exact version', () => {
    const stanzas = parseSourceStanzas(SOURCES, sourceSelection(['libbpf']).wanted);
    assert.equal(pickSource(stanzas, { name: 'libbpf', version: '1.5.0', suite: 't' })?.version, '1.5.0-3');
    assert.equal(pickSource(stanzas, { name: 'libbpf', version: '1.5.0-1', suite: 't' })?.version, '1.5.0-1');
    assert.equal(pickSource(stanzas, { name: 'libbpf', version: '1.4.0', suite: 't' }), undefined);
    const orig = upstreamTarball(stanzas[0] ?? assert.fail('no stanza'));
    assert.equal(orig?.name, 'libbpf_1.5.0.orig.tar.gz');
  });
});

describe('Debian version order', () => {
  it('orders as dpkg does', () => {
    const sorted = ['1:1.0-1', '1.5.0-1+b1', '1.5.0~rc1-1', '1.10.0-1', '1.5.0-1', '257.13-1~deb13u1', '257.13-1'];
    sorted.sort(compareDebianVersions);
    assert.deepEqual(sorted, ['1.5.0~rc1-1', '1.5.0-1', '1.5.0-1+b1', '1.10.0-1', '257.13-1~deb13u1', '257.13-1', '1:1.0-1']);
    assert.equal(upstreamVersion('1:7.0.10-1+deb13u4'), '7.0.10');
    assert.equal(upstreamVersion('1.0-rc1-2'), '1.0-rc1');
  });
});

type Entry = { name: string; type?: 'file' | 'symlink' | 'directory'; linkname?: string; body?: string | Buffer };

async function tar(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const { body, ...header } of entries) pack.entry({ type: 'file', ...header }, body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const tgz = async (entries: readonly Entry[]): Promise<Buffer> => gzipSync(await tar(entries));

describe('upstream tarball extraction', () => {
  let work = '';
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-src-'));
  });
  after(async () => rm(work, { recursive: true, force: true }));

  it('extracts a tree, keeping links inside and dropping links that leave', async () => {
    const path = join(work, 'ok.tgz');
    await writeFile(path, await tgz([
      { name: 'p-1/src/a.c', body: 'int a;' },
      { name: 'p-1/inc', type: 'symlink', linkname: 'src' },
      { name: 'p-1/out', type: 'symlink', linkname: '../../../etc' },
    ]));
    const stats = await extractSourceTarball(path, 'p_1.orig.tar.gz', join(work, 'ok'));
    assert.equal(await readFile(join(work, 'ok/p-1/src/a.c'), 'utf8'), 'int a;');
    assert.equal(await readlink(join(work, 'ok/p-1/inc')), 'src');
    assert.deepEqual(stats.droppedLinks, ['p-1/out -> ../../../etc']);
  });

  it('reads .tar.xz through the xz tool, and reports a corrupt one', async () => {
    const good = join(work, 'good.txz');
    await writeFile(good, await xz.compress(await tar([{ name: 'q-2/README', body: 'hi' }])));
    await extractSourceTarball(good, 'q_2.orig.tar.xz', join(work, 'x'));
    assert.equal(await readFile(join(work, 'x/q-2/README'), 'utf8'), 'hi');
    const bad = join(work, 'bad.txz');
    await writeFile(bad, (await readFile(good)).subarray(0, 40));
    await assert.rejects(extractSourceTarball(bad, 'q_2.orig.tar.xz', join(work, 'y')), ArchiveError);
  });

  it('refuses ".." entries, too many entries and too many bytes', async () => {
    const escape = join(work, 'escape.tgz');
    await writeFile(escape, await tgz([{ name: 'p-1/../../x', body: 'x' }]));
    await assert.rejects(extractSourceTarball(escape, 'p_1.orig.tar.gz', join(work, 'e')), ArchiveError);
    const many = join(work, 'many.tgz');
    await writeFile(many, await tgz(Array.from({ length: 20 }, (_, i) => ({ name: `p/${i}` }))));
    await assert.rejects(extractSourceTarball(many, 'p_1.orig.tar.gz', join(work, 'm'), { maxBytes: 1 << 20, maxEntries: 10 }), /more than 10 entries/);
    // 4 MiB of zeros gzip to a few KB: the bound is on what comes out of the decompressor.
    const bomb = join(work, 'bomb.tgz');
    await writeFile(bomb, await tgz([{ name: 'p/zeros', body: Buffer.alloc(4 << 20) }]));
    await assert.rejects(extractSourceTarball(bomb, 'p_1.orig.tar.gz', join(work, 'b'), { maxBytes: 1 << 20, maxEntries: 10 }), /1048576 bytes/);
    await assert.rejects(extractSourceTarball(bomb, 'p_1.orig.tar.lzma', join(work, 'c')), /not a .tar.gz/);
  });
});
