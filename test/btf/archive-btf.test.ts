/**
 * A BTFHub-style archive with the real layout (<distro>/<version>/<arch>/<release>.btf.tar.xz,
 * made here with tar and xz from a real kernel's BTF), read from a folder and over HTTP on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { debianBuilder } from '../../builders/debian/index.js';
import { obtainFullBtf } from '../../src/btf/full-btf.js';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { KbuildError } from '../../src/errors.js';
import { run } from '../../src/exec/exec.js';
import { TEST_KERNELS } from '../helpers/kernel-images.js';

const kernel = TEST_KERNELS.x86_64;
let dir: string;
let archive: string;
let imageSha: string;
let server: Server;
let baseUrl: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbuild-btfhub-'));
  const image = await obtainFullBtf(kernel, { builder: debianBuilder, context: { cacheDir: cacheRoot() }, sources: ['image'] });
  imageSha = image.sha256;
  archive = join(dir, 'archive');
  const folder = join(archive, 'debian', '12', 'x86_64');
  await mkdir(folder, { recursive: true });
  await copyFile(image.path, join(dir, `${kernel.release}.btf`));
  await run('tar', ['-cJf', join(folder, `${kernel.release}.btf.tar.xz`), '-C', dir, `${kernel.release}.btf`]);
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    readFile(join(archive, path.replace(/\.\./g, ''))).then(
      (body) => res.writeHead(200).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

const options = (archiveBase: string, extra: { distroVersion?: string } = {}) => ({
  builder: debianBuilder,
  context: { cacheDir: join(dir, 'cache') },
  sources: ['archive'] as const,
  archive: archiveBase,
  ...extra,
});

describe('BTFHub-style archive', () => {
  it('reads <distro>/<version>/<arch>/<release>.btf.tar.xz from a folder, searching the version', async () => {
    const full = await obtainFullBtf(kernel, options(archive));
    assert.equal(full.source, 'archive');
    assert.equal(full.sha256, imageSha);
    assert.equal(full.location, join(archive, 'debian/12/x86_64', `${kernel.release}.btf.tar.xz`));
  });

  it('reads it from a base URL given the distro version', async () => {
    const full = await obtainFullBtf(kernel, options(baseUrl, { distroVersion: '12' }));
    assert.equal(full.sha256, imageSha);
    assert.equal(full.location, `${baseUrl}/debian/12/x86_64/${kernel.release}.btf.tar.xz`);
  });

  it('says what is missing, per source, when nothing has the kernel', async () => {
    const missing = { ...kernel, release: '6.1.0-999-cloud-amd64' };
    await assert.rejects(obtainFullBtf(missing, options(baseUrl, { distroVersion: '12' })), (err) => {
      assert.ok(err instanceof KbuildError);
      assert.equal(err.code, 'E_BTF_SOURCE');
      assert.match(err.message, /no BTF source has debian 6\.1\.0-999-cloud-amd64 x86_64/);
      assert.match(err.message, /archive: the BTF archive has no http:\/\/127\.0\.0\.1:[0-9]+\/debian\/12\/x86_64\/6\.1\.0-999-cloud-amd64\.btf\.tar\.xz/);
      return true;
    });
    await assert.rejects(obtainFullBtf(kernel, options(baseUrl)), /needs distroVersion in kernels\.yaml/);
  });
});
