import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { xz } from '@napi-rs/lzma';
import { run } from '../../src/exec/exec.js';
import { fetchSourcePackage } from '../../src/repo/apt/source-package.js';
import { serveMirror, writeRelease } from '../helpers/apt-mirror.js';
import { closeSigningKey, createSigningKey, type SigningKey } from '../helpers/signing-key.js';

const DIRECTORY = 'pool/main/d/demo';
const TARBALL = 'demo_1.0.orig.tar.gz';

/**
 * A signed suite whose Sources stanza lists a .dsc, the upstream tarball and
 * the Debian packaging, of which the pool holds only the tarball: the mirror
 * this was written on answers 404 for opensnitch's, bpftune's and pwru's .dsc.
 */
async function writeSuite(work: string, key: SigningKey): Promise<void> {
  const tree = join(work, 'upstream', 'demo-1.0', 'ebpf');
  await mkdir(tree, { recursive: true });
  await writeFile(join(tree, 'probe.bpf.c'), 'int x;\n');
  const pool = join(work, 'mirror', DIRECTORY);
  await mkdir(pool, { recursive: true });
  await run('tar', ['-czf', join(pool, TARBALL), '-C', join(work, 'upstream'), 'demo-1.0']);
  const tarball = await readFile(join(pool, TARBALL));
  const line = (sha256: string, size: number, name: string): string => ` ${sha256} ${size} ${name}`;
  const stanza = [
    'Package: demo',
    'Binary: demo',
    'Version: 1.0-1',
    'Format: 3.0 (quilt)',
    'Checksums-Sha256:',
    line('a'.repeat(64), 1234, 'demo_1.0-1.dsc'),
    line(createHash('sha256').update(tarball).digest('hex'), tarball.length, TARBALL),
    line('b'.repeat(64), 5678, 'demo_1.0-1.debian.tar.xz'),
    `Directory: ${DIRECTORY}`,
    '',
  ].join('\n');
  const dir = join(work, 'mirror', 'dists', 'trixie', 'main', 'source');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Sources.xz'), await xz.compress(stanza));
  await writeRelease(work, 'trixie', { key, codename: 'trixie' });
}

describe('Debian source packages from a mirror that lacks the .dsc', () => {
  let work: string;
  let key: SigningKey;
  const keyring = process.env['KBUILD_DEBIAN_KEYRING'];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-source-mirror-'));
    key = await createSigningKey(work, 'archive');
    await writeSuite(work, key);
    process.env['KBUILD_DEBIAN_KEYRING'] = key.keyring;
  });
  after(async () => {
    if (keyring === undefined) delete process.env['KBUILD_DEBIAN_KEYRING'];
    else process.env['KBUILD_DEBIAN_KEYRING'] = keyring;
    await closeSigningKey(key);
    await rm(work, { recursive: true, force: true });
  });

  it('fetches only the upstream tarball, checked against the signed index, and unpacks its tree', async () => {
    const mirror = await serveMirror(work);
    try {
      const got = await fetchSourcePackage({ name: 'demo', suite: 'trixie' }, { cacheDir: join(work, 'cache'), mirror: mirror.url });
      assert.equal(got.version, '1.0-1');
      assert.deepEqual(got.files.map((f) => f.name), [TARBALL]);
      assert.equal(await readFile(join(got.dir, 'ebpf', 'probe.bpf.c'), 'utf8'), 'int x;\n');
      const pool = mirror.requests.filter((p) => p.startsWith('pool/'));
      assert.deepEqual(pool, [`${DIRECTORY}/${TARBALL}`]);
    } finally {
      await mirror.close();
    }
  });

  it('refuses a tarball whose bytes differ from what the signed index says', async () => {
    const mirror = await serveMirror(work, (path, bytes) => (path.endsWith(TARBALL) ? Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from([bytes[bytes.length - 1]! ^ 1])]) : bytes));
    try {
      await assert.rejects(fetchSourcePackage({ name: 'demo', suite: 'trixie' }, { cacheDir: join(work, 'cache-tampered'), mirror: mirror.url }), /sha256|SHA256|checksum/);
    } finally {
      await mirror.close();
    }
  });
});
