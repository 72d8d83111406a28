import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readdir, readlink, realpath, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChecksumError, KernelNotFoundError } from '../../src/errors.js';
import type { KernelIdentity } from '../../src/kernel/identity.js';
import type { BuilderContext } from '../types.js';
import { buildDeb, countingFetch, serveMirror, stanza, writeIndex, writeRelease, type BuiltPackage, type LocalMirror } from '../../test/helpers/apt-mirror.js';
import { closeSigningKey, createSigningKey, type SigningKey } from '../../test/helpers/signing-key.js';
import { createDebianBuilder } from './index.js';

const V = '9.1.5-1';
const ABI = '9.1.0-7';
const cloud: KernelIdentity = { distro: 'debian', release: `${ABI}-cloud-amd64`, arch: 'x86_64' };
const rt: KernelIdentity = { distro: 'debian', release: `${ABI}-rt-amd64`, arch: 'x86_64' };

function commonPackage(name: string, version = V): Parameters<typeof buildDeb>[1] {
  return {
    name,
    version,
    arch: 'all',
    files: { [`usr/src/${name}/include/linux/kconfig.h`]: `/* ${version} */\n`, 'usr/share/doc/x/changelog': 'x' },
    symlinks: { [`usr/src/${name}/scripts`]: '../../lib/linux-kbuild-9.1/scripts' },
  };
}

function flavourPackage(release: string, common: string, version = V): Parameters<typeof buildDeb>[1] {
  const dir = `usr/src/linux-headers-${release}`;
  return {
    name: `linux-headers-${release}`,
    version,
    arch: 'amd64',
    depends: `${common} (= ${version}), linux-kbuild-9.1 (>= ${version})`,
    files: {
      [`${dir}/.config`]: 'CONFIG_BPF=y\n',
      [`${dir}/include/generated/autoconf.h`]: '#define CONFIG_BPF 1\n',
      [`${dir}/include/generated/uapi/linux/version.h`]: '#define LINUX_VERSION_CODE 590085\n#define KERNEL_VERSION(a,b,c) 0\n',
    },
    // A relative link into the -common tree, as older Debian packages had: it must resolve.
    symlinks: { [`${dir}/include/common-kconfig.h`]: `../../${common}/include/linux/kconfig.h` },
  };
}

describe('debian builder against a local mirror', { timeout: 120_000 }, () => {
  let work = '';
  let mirror: LocalMirror;
  let key: SigningKey;
  let corrupt = false;
  const built = new Map<string, BuiltPackage>();

  async function publish(...pkgs: Parameters<typeof buildDeb>[1][]): Promise<void> {
    for (const pkg of pkgs) built.set(pkg.name, await buildDeb(work, pkg));
    await writeIndex(work, 'bookworm', 'amd64', [...built.values()].map(stanza));
    await writeRelease(work, 'bookworm', { key });
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-debmirror-'));
    key = await createSigningKey(work, 'archive');
    for (const suite of ['bullseye', 'trixie', 'sid']) {
      await writeIndex(work, suite, 'amd64', []);
      await writeRelease(work, suite, { key });
    }
    const image = {
      name: `linux-image-${cloud.release}-unsigned`,
      version: V,
      arch: 'amd64',
      files: { [`boot/vmlinuz-${cloud.release}`]: 'MZ fake bzImage', [`boot/System.map-${cloud.release}`]: 'map' },
    };
    await publish(
      commonPackage(`linux-headers-${ABI}-common`),
      commonPackage(`linux-headers-${ABI}-common-rt`),
      flavourPackage(cloud.release, `linux-headers-${ABI}-common`),
      flavourPackage(rt.release, `linux-headers-${ABI}-common-rt`),
      image,
    );
    mirror = await serveMirror(work, (path, bytes) => {
      if (!corrupt || !path.endsWith('-common_9.1.5-1_all.deb')) return bytes;
      const copy = Buffer.from(bytes);
      copy[copy.length - 100] = (copy[copy.length - 100] ?? 0) ^ 0xff;
      return copy;
    });
  });
  after(async () => {
    await mirror.close();
    await closeSigningKey(key);
    await rm(work, { recursive: true, force: true });
  });

  async function setup(cacheDir?: string): Promise<{ builder: ReturnType<typeof createDebianBuilder>; urls: string[]; context: BuilderContext }> {
    const counter = countingFetch();
    const builder = createDebianBuilder({
      env: {},
      aptRoot: join(work, 'no-apt'),
      // The main archive's suites only; suites.test.ts covers the pockets and the security root.
      suites: ['bullseye', 'bookworm', 'trixie', 'sid'],
      keyrings: [key.keyring],
      http: { attempts: 2, baseDelayMs: 5, fetch: counter.fetch },
    });
    const context = { cacheDir: cacheDir ?? (await mkdtemp(join(work, 'cache-'))), mirror: mirror.url };
    return { builder, urls: counter.urls, context };
  }
  const paths = (urls: string[]): string[] => urls.map((u) => u.slice(mirror.url.length + 1));

  it('resolves, downloads and extracts both packages into one tree; the second fetch downloads nothing', async () => {
    const first = await setup();
    const headers = await first.builder.fetchHeaders(cloud, first.context);
    assert.deepEqual(paths(first.urls).slice(0, 4), [
      'dists/bullseye/InRelease',
      'dists/bullseye/main/binary-amd64/Packages.xz',
      'dists/bookworm/InRelease',
      'dists/bookworm/main/binary-amd64/Packages.xz',
    ]);
    // The two packages download at once (the flavour's while the common one is extracted).
    assert.deepEqual(paths(first.urls).slice(4).sort(), [built.get(`linux-headers-${ABI}-common`)?.filename, built.get(`linux-headers-${cloud.release}`)?.filename].sort());
    assert.equal(headers.fromCache, false);
    assert.equal(headers.trees.versionCode, 590085);
    // The kernel's tree holds its flavour folder and a relative link to the ABI's shared common tree.
    const commonLink = join(headers.trees.flavour, '..', `linux-headers-${ABI}-common`);
    assert.ok((await lstat(commonLink)).isSymbolicLink());
    assert.doesNotMatch(await readlink(commonLink), /^\//, 'relative: the cache folder can move');
    assert.equal(await realpath(commonLink), headers.trees.common);
    assert.equal(await readFile(join(headers.trees.flavour, '.config'), 'utf8'), 'CONFIG_BPF=y\n');
    assert.equal(await readFile(join(headers.trees.flavour, 'include/common-kconfig.h'), 'utf8'), `/* ${V} */\n`);
    assert.deepEqual(
      headers.packages.map((p) => `${p.name} ${p.version} ${p.suite}`),
      [`linux-headers-${cloud.release} ${V} bookworm`, `linux-headers-${ABI}-common ${V} bookworm`],
    );

    const second = await setup(first.context.cacheDir);
    const again = await second.builder.fetchHeaders(cloud, second.context);
    assert.deepEqual(second.urls, [], 'a cached kernel needs no request at all');
    assert.equal(again.fromCache, true);
    assert.deepEqual(again.trees, headers.trees);
  });

  it('follows an -rt flavour to its -common-rt package, reusing cached indexes', async () => {
    const first = await setup();
    const cloudHeaders = await first.builder.fetchHeaders(cloud, first.context);
    const second = await setup(first.context.cacheDir);
    const headers = await second.builder.fetchHeaders(rt, second.context);
    assert.deepEqual(paths(second.urls).sort(), [built.get(`linux-headers-${ABI}-common-rt`)?.filename, built.get(`linux-headers-${rt.release}`)?.filename].sort());
    assert.match(headers.trees.common, /linux-headers-9\.1\.0-7-common-rt$/);
    // The two common packages hold the same kconfig.h: one file on disk, linked from both trees.
    const inode = async (common: string): Promise<number> => (await stat(join(common, 'include/linux/kconfig.h'))).ino;
    assert.equal(await inode(headers.trees.common), await inode(cloudHeaders.trees.common));
    assert.notEqual(headers.trees.common, cloudHeaders.trees.common);
  });

  it('downloads each package once when the same kernel is fetched concurrently', async () => {
    const { builder, urls, context } = await setup();
    const results = await Promise.all([1, 2, 3].map(() => builder.fetchHeaders(cloud, context)));
    assert.equal(new Set(results.map((r) => r.trees.flavour)).size, 1);
    const debs = urls.filter((u) => u.endsWith('.deb'));
    assert.equal(debs.length, new Set(debs).size, `duplicate downloads: ${debs.join(', ')}`);
  });

  it('rejects a corrupted package with ChecksumError and leaves nothing in the cache', async () => {
    const { builder, context } = await setup();
    corrupt = true;
    try {
      await assert.rejects(builder.fetchHeaders(cloud, context), (err: unknown) => {
        assert.ok(err instanceof ChecksumError, String(err));
        assert.ok(err.message.includes(built.get(`linux-headers-${ABI}-common`)?.sha256 ?? '?'));
        return true;
      });
    } finally {
      corrupt = false;
    }
    // Only the flavour package, verified (it downloads beside the common one), is kept; nothing of the corrupted one.
    assert.deepEqual(await readdir(join(context.cacheDir, 'debs')), [built.get(`linux-headers-${cloud.release}`)?.sha256]);
    assert.deepEqual(await readdir(join(context.cacheDir, 'trees')), []);
  });

  it('names the suites, the mirror and the nearest releases listed when a release is in no index', async () => {
    const { builder, urls, context } = await setup();
    const unknown: KernelIdentity = { distro: 'debian', release: '9.9.0-99-amd64', arch: 'x86_64' };
    await assert.rejects(builder.fetchHeaders(unknown, context), (err: unknown) => {
      assert.ok(err instanceof KernelNotFoundError);
      assert.equal(err.message, `kernel 9.9.0-99-amd64 (x86_64) not found in debian suites bullseye, bookworm, trixie, sid (${mirror.url}); did you mean 9.1.0-7-rt-amd64 or 9.1.0-7-cloud-amd64?`);
      return true;
    });
    assert.equal(urls.length, 8, 'InRelease and Packages.xz of four suites');
    await assert.rejects(builder.fetchImage(unknown, context), KernelNotFoundError);
    assert.equal(urls.length, 8, 'indexes younger than the TTL are not fetched again');
  });

  it('extracts only the kernel image of linux-image-<release>-unsigned', async () => {
    const first = await setup();
    const image = await first.builder.fetchImage(cloud, first.context);
    assert.equal(await readFile(image.path, 'utf8'), 'MZ fake bzImage');
    assert.deepEqual((await readdir(join(image.path, '..'))).sort(), ['.kbuild-complete', `vmlinuz-${cloud.release}`]);
    assert.equal(image.package.name, `linux-image-${cloud.release}-unsigned`);
    const second = await setup(first.context.cacheDir);
    const again = await second.builder.fetchImage(cloud, second.context);
    assert.deepEqual(second.urls, []);
    assert.equal(again.path, image.path);
  });

  it('re-resolves once when the mirror dropped a package a cached resolution names', async () => {
    const first = await setup();
    await first.builder.fetchHeaders(cloud, first.context);
    for (const dir of ['debs', 'trees']) await rm(join(first.context.cacheDir, dir), { recursive: true });
    const old = built.get(`linux-headers-${cloud.release}`);
    // A new upload of the same ABI replaces the old one in the index and, later, in the pool.
    const next = '9.1.5-2';
    await publish(flavourPackage(cloud.release, `linux-headers-${ABI}-common`, next), commonPackage(`linux-headers-${ABI}-common`, next));
    const fresh = built.get(`linux-headers-${cloud.release}`);
    await unlink(join(work, 'mirror', old?.filename ?? ''));
    const second = await setup(first.context.cacheDir);
    const headers = await second.builder.fetchHeaders(cloud, second.context);
    assert.equal(headers.packages[0]?.sha256, fresh?.sha256);
    assert.equal(headers.packages[1]?.version, next);
    assert.equal(await readFile(join(headers.trees.common, 'include/linux/kconfig.h'), 'utf8'), `/* ${next} */\n`);
  });

  it('extracts an ABI\'s common package once for all its flavours, and each kernel links to it', async () => {
    const amd64: KernelIdentity = { distro: 'debian', release: `${ABI}-amd64`, arch: 'x86_64' };
    const common = built.get(`linux-headers-${ABI}-common`)?.pkg.version ?? V;
    await publish(flavourPackage(amd64.release, `linux-headers-${ABI}-common`, common));
    const { builder, urls, context } = await setup();
    const first = await builder.fetchHeaders(cloud, context);
    const before = urls.length;
    const second = await builder.fetchHeaders(amd64, context);
    assert.deepEqual(paths(urls.slice(before)), [built.get(`linux-headers-${amd64.release}`)?.filename], 'only the flavour package is downloaded');
    assert.equal(second.trees.common, first.trees.common, 'one common tree');
    assert.notEqual(join(second.trees.flavour, '..'), join(first.trees.flavour, '..'));
    assert.equal(await readFile(join(second.trees.flavour, 'include/common-kconfig.h'), 'utf8'), await readFile(join(first.trees.common, 'include/linux/kconfig.h'), 'utf8'));
    // What dpkg would show: both folders side by side under usr/src, and nothing else there.
    assert.deepEqual((await readdir(join(second.trees.flavour, '..'))).sort(), [`linux-headers-${amd64.release}`, `linux-headers-${ABI}-common`]);
  });
});
