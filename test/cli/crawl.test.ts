import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { KernelEntry } from '../../src/config/kernels-schema.js';
import { serveMirror, type LocalMirror } from '../helpers/apt-mirror.js';
import { kbuild } from '../helpers/cli.js';
import { buildDevelRpm, writeRpmRepo } from '../helpers/rpm-fixtures.js';

const entries = (stdout: string): KernelEntry[] => {
  const doc = parse(stdout) as { kernels: unknown[] };
  return doc.kernels.map((k) => KernelEntry.parse(k));
};

describe('kbuild crawl', { timeout: 10 * 60_000 }, () => {
  let work = '';
  let mirror: LocalMirror;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-crawl-cli-'));
    const tree = join(work, 'tree');
    await mkdir(join(tree, 'include/generated/uapi/linux'), { recursive: true });
    await writeFile(join(tree, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 11\n');
    await writeFile(join(tree, 'include/generated/uapi/linux/version.h'), '#define LINUX_VERSION_CODE 396036\n');
    const repo = join(work, 'mirror', 'fedora', 'updates', '41', 'Everything', 'x86_64');
    const rpms = [];
    for (const rel of ['300.fc41', '301.fc41']) {
      rpms.push(await buildDevelRpm({ release: `6.11.4-${rel}.x86_64`, version: '6.11.4', rel, tree, payload: 'gzip' }));
    }
    await writeRpmRepo(repo, rpms);
    mirror = await serveMirror(work, undefined, 'mirror');
  });
  after(async () => {
    await mirror?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('prints kernels.yaml entries for a configured mirror, newest first, --latest and --release-filter applied', async () => {
    const env = { KBUILD_CACHE_DIR: join(work, 'cache') };
    const all = await kbuild(['crawl', 'fedora', '--mirror', `${mirror.url}/fedora`], { env });
    assert.equal(all.exitCode, 0, all.stderr);
    assert.deepEqual(entries(all.stdout).map((k) => k.release), ['6.11.4-301.fc41.x86_64', '6.11.4-300.fc41.x86_64']);
    assert.match(all.stdout, /# 6\.11\.4-301\.fc41 from http:\/\/127\.0\.0\.1:\d+\/mirror\/fedora\/updates\/41\/Everything\/x86_64/);
    const latest = await kbuild(['crawl', 'fedora', '--mirror', `${mirror.url}/fedora`, '--latest', '1'], { env });
    assert.deepEqual(entries(latest.stdout).map((k) => `${k.distro} ${k.release} ${k.arch}`), ['fedora 6.11.4-301.fc41.x86_64 x86_64']);
    const none = await kbuild(['crawl', 'fedora', '--mirror', `${mirror.url}/fedora`, '--release-filter', '^5\\.'], { env });
    assert.equal(none.exitCode, 1);
    assert.match(none.stderr, /no fedora kernels found/);
  });

  it('--json prints the kernels with package versions and sources; progress lines go to stderr', async () => {
    const env = { KBUILD_CACHE_DIR: join(work, 'cache-json') };
    const result = await kbuild(['crawl', 'fedora', '--mirror', `${mirror.url}/fedora`, '--json'], { env });
    assert.equal(result.exitCode, 0, result.stderr);
    const doc = JSON.parse(result.stdout) as { distro: string; arches: string[]; kernels: { release: string; packageVersion: string; source: string }[] };
    assert.equal(doc.distro, 'fedora');
    assert.deepEqual(doc.arches, ['x86_64']);
    assert.deepEqual(doc.kernels.map((k) => `${k.release} ${k.packageVersion}`), ['6.11.4-301.fc41.x86_64 6.11.4-301.fc41', '6.11.4-300.fc41.x86_64 6.11.4-300.fc41']);
    assert.ok(doc.kernels.every((k) => k.source.startsWith(`${mirror.url}/fedora/`)));
    assert.match(result.stderr, /^kbuild: crawling fedora x86_64 at http:\/\/127\.0\.0\.1:\d+\/mirror\/fedora$/m);
    assert.match(result.stderr, /^kbuild: downloaded repomd\.xml \(/m);
    assert.match(result.stderr, /^kbuild: fedora x86_64: 2 kernels$/m);
  });

  it('lists real Debian kernels from the host mirror (network)', async () => {
    const result = await kbuild(['crawl', 'debian', '--latest', '2', '--release-filter', 'cloud-amd64$']);
    assert.equal(result.exitCode, 0, result.stderr);
    const kernels = entries(result.stdout);
    assert.equal(kernels.length, 2);
    assert.ok(kernels.every((k) => k.distro === 'debian' && k.arch === 'x86_64' && k.release.endsWith('-cloud-amd64')));
  });

  it('refuses unknown distros, bad filters and a RHEL crawl without a mirror, with exit code 2', async () => {
    const unknown = await kbuild(['crawl', 'gentoo']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /unknown distro "gentoo", expected one of: almalinux, amzn, centos, debian, fedora, rhel, rocky, ubuntu/);
    const regex = await kbuild(['crawl', 'debian', '--release-filter', '(']);
    assert.equal(regex.exitCode, 2);
    assert.match(regex.stderr, /--release-filter "\(" is not a regular expression/);
    const rhel = await kbuild(['crawl', 'rhel']);
    assert.equal(rhel.exitCode, 2);
    assert.match(rhel.stderr, /no rhel mirror configured/);
    assert.match(rhel.stderr, /KBUILD_RHEL_MIRROR/);
  });
});
