import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KernelNotFoundError } from '../../src/errors.js';
import type { KernelIdentity } from '../../src/kernel/identity.js';
import { buildDeb, countingFetch, serveMirror, stanza, writeIndex, writeRelease, type LocalMirror } from '../../test/helpers/apt-mirror.js';
import { closeSigningKey, createSigningKey, type SigningKey } from '../../test/helpers/signing-key.js';
import { createDebianBuilder, type DebianBuilderOptions } from './index.js';
import { configuredSuites, DEFAULT_SUITES } from './suites.js';

/**
 * Suites beyond the main archive, on two local roots signed by a test key:
 * the main mirror (bookworm, bookworm-backports, sid) and a security
 * archive (bookworm-security), as Debian publishes them.
 */

const kernel = (release: string): KernelIdentity => ({ distro: 'debian', release, arch: 'x86_64' });
const MAIN = '9.1.0-7-cloud-amd64';
const SECURITY = '9.1.0-9-cloud-amd64';
const BACKPORTS = '9.8.1+deb12-cloud-amd64';
const SID = '10.2.3+deb14-cloud-amd64';

function headersOf(release: string, version: string) {
  const abi = release.replace(/-cloud-amd64$/, '');
  return [
    { name: `linux-headers-${abi}-common`, version, arch: 'all', files: { [`usr/src/linux-headers-${abi}-common/Makefile`]: 'x' } },
    {
      name: `linux-headers-${release}`,
      version,
      arch: 'amd64',
      depends: `linux-headers-${abi}-common (= ${version})`,
      files: { [`usr/src/linux-headers-${release}/.config`]: 'CONFIG_BPF=y\n' },
    },
  ];
}

const image = (release: string, version: string) => ({
  name: `linux-image-${release}-unsigned`,
  version,
  arch: 'amd64',
  files: { [`boot/vmlinuz-${release}`]: `bzImage ${release}` },
});

describe('debian suites: -security on its own root, -backports, sid and its linux-binary-* images', { timeout: 120_000 }, () => {
  let work = '';
  let securityWork = '';
  let mirror: LocalMirror;
  let security: LocalMirror;
  let key: SigningKey;

  async function suite(root: string, name: string, pkgs: Parameters<typeof buildDeb>[1][], validUntil?: Date): Promise<void> {
    const built = await Promise.all(pkgs.map((p) => buildDeb(root, p)));
    await writeIndex(root, name, 'amd64', built.map(stanza));
    await writeRelease(root, name, { key, suite: name, ...(validUntil === undefined ? {} : { validUntil }) });
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-suites-'));
    securityWork = join(work, 'security');
    key = await createSigningKey(work, 'archive');
    await suite(work, 'bookworm', [...headersOf(MAIN, '9.1.5-1'), image(MAIN, '9.1.5-1')]);
    await suite(work, 'bookworm-backports', [...headersOf(BACKPORTS, '9.8.1-1~bpo12+1'), image(BACKPORTS, '9.8.1-1~bpo12+1')]);
    await suite(securityWork, 'bookworm-security', [...headersOf(SECURITY, '9.1.7-1'), image(SECURITY, '9.1.7-1')]);
    // 7.x packaging: linux-image-<release> is a metapackage, the kernel is in linux-binary-<release>.
    await suite(work, 'sid', [
      ...headersOf(SID, '10.2.3-1'),
      { name: `linux-image-${SID}`, version: '10.2.3-1', arch: 'amd64', depends: `linux-binary-${SID} (= 10.2.3-1)`, files: { 'usr/share/doc/x/README': 'meta' } },
      { name: `linux-binary-${SID}`, version: '10.2.3-1', arch: 'amd64', files: { [`usr/lib/modules/${SID}/vmlinuz`]: `bzImage ${SID}` } },
    ], new Date(Date.now() + 3_600_000));
    mirror = await serveMirror(work);
    security = await serveMirror(securityWork, undefined, 'debian-security');
  });
  after(async () => {
    await Promise.all([mirror?.close(), security?.close()]);
    await closeSigningKey(key);
    await rm(work, { recursive: true, force: true });
  });

  function builder(options: Partial<DebianBuilderOptions> = {}) {
    const counter = countingFetch();
    return {
      builder: createDebianBuilder({
        env: { KBUILD_DEBIAN_SECURITY_MIRROR: security.url },
        aptRoot: join(work, 'no-apt'),
        keyrings: [key.keyring],
        onWarning: () => undefined,
        http: { attempts: 1, fetch: counter.fetch },
        ...options,
      }),
      urls: counter.urls,
    };
  }

  it('searches each release with its -security, -updates and -backports by default, and takes KBUILD_DEBIAN_SUITES', () => {
    assert.deepEqual(DEFAULT_SUITES.slice(0, 4), ['bullseye', 'bullseye-security', 'bullseye-updates', 'bullseye-backports']);
    assert.ok(DEFAULT_SUITES.includes('bookworm-security') && DEFAULT_SUITES.includes('trixie-backports') && DEFAULT_SUITES.includes('forky'));
    assert.equal(DEFAULT_SUITES.at(-1), 'sid');
    assert.deepEqual(configuredSuites({ env: { KBUILD_DEBIAN_SUITES: 'bookworm, bookworm-security sid' } }), ['bookworm', 'bookworm-security', 'sid']);
    assert.throws(() => configuredSuites({ env: { KBUILD_DEBIAN_SUITES: 'bookworm ../x' } }), /not a suite name/);
  });

  it('fetches a kernel that only bookworm-security has from the security root, checked against its own InRelease', async () => {
    const cacheDir = await mkdtemp(join(work, 'cache-'));
    const { builder: b, urls } = builder();
    const found = await b.fetchImage(kernel(SECURITY), { cacheDir, mirror: mirror.url });
    assert.equal(await readFile(found.path, 'utf8'), `bzImage ${SECURITY}`);
    assert.equal(found.package.suite, 'bookworm-security');
    assert.ok(urls.includes(`${security.url}/dists/bookworm-security/InRelease`), urls.join(' '));
    assert.ok(urls.some((u) => u.startsWith(`${security.url}/pool/`)), 'the package comes from the security root');
    const headers = await b.fetchHeaders(kernel(SECURITY), { cacheDir, mirror: mirror.url });
    assert.deepEqual(headers.packages.map((p) => p.suite), ['bookworm-security', 'bookworm-security']);
  });

  it('names the security suites it could not search when no security root is configured', async () => {
    const { builder: b } = builder({ env: {}, suites: ['bookworm', 'bookworm-security'] });
    await assert.rejects(b.fetchImage(kernel(SECURITY), { cacheDir: await mkdtemp(join(work, 'cache-')), mirror: mirror.url }), (err: unknown) => {
      assert.ok(err instanceof KernelNotFoundError);
      assert.match(err.message, /not searched: bookworm-security \(no security archive: set KBUILD_DEBIAN_SECURITY_MIRROR/);
      return true;
    });
  });

  it('fetches a bookworm-backports kernel, and sid\'s kernel from linux-binary-<release>', async () => {
    const cacheDir = await mkdtemp(join(work, 'cache-'));
    const backports = await builder().builder.fetchImage(kernel(BACKPORTS), { cacheDir, mirror: mirror.url });
    assert.equal(backports.package.suite, 'bookworm-backports');
    const sid = await builder().builder.fetchImage(kernel(SID), { cacheDir, mirror: mirror.url });
    assert.equal(sid.package.name, `linux-binary-${SID}`);
    assert.equal(await readFile(sid.path, 'utf8'), `bzImage ${SID}`);
  });

  it('refuses a remembered sid resolution once its Release expired, as it refuses the index; ignoreValidUntil takes it', async () => {
    await writeRelease(work, 'sid', { key, suite: 'sid', validUntil: new Date(Date.now() + 3_000) });
    const cacheDir = await mkdtemp(join(work, 'cache-'));
    await builder().builder.fetchHeaders(kernel(SID), { cacheDir, mirror: mirror.url });
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const { builder: b, urls } = builder();
    await assert.rejects(b.fetchHeaders(kernel(SID), { cacheDir, mirror: mirror.url }), (err: unknown) => {
      assert.ok(err instanceof KernelNotFoundError, String(err));
      assert.match(err.message, /sid \(Release expired on /);
      return true;
    });
    assert.ok(urls.includes(`${mirror.url}/dists/sid/InRelease`), 'neither the resolution nor the index was taken from the cache');
    const again = await builder({ ignoreValidUntil: true }).builder.fetchHeaders(kernel(SID), { cacheDir, mirror: mirror.url });
    assert.equal(again.packages[0]?.suite, 'sid');
  });

  it('crawls every suite, each kernel once with the suite it comes from', async () => {
    const { builder: b } = builder({ ignoreValidUntil: true });
    const crawled = await b.crawl?.({ cacheDir: await mkdtemp(join(work, 'cache-')), mirror: mirror.url }, { arch: 'x86_64' });
    assert.deepEqual(
      crawled?.map((k) => `${k.release} ${k.source}`).sort(),
      [`${BACKPORTS} bookworm-backports`, `${MAIN} bookworm`, `${SECURITY} bookworm-security`, `${SID} sid`].sort(),
    );
  });
});
