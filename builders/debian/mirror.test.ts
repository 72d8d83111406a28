import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { findMirror, findSecurityMirror, mirrorFromDeb822, mirrorFromOneLine } from './mirror.js';

const DEB822 = `Types: deb
# a snapshot comment
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Enabled: no

Types: deb
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

const ONE_LINE = `# deb http://commented.example/debian bookworm main
deb http://security.example/debian-security bookworm-security main
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://oneline.example/debian trixie main contrib
`;

describe('debian mirror lookup', () => {
  let root = '';
  let n = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'kbuild-apt-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  async function aptRoot(files: Record<string, string>): Promise<string> {
    const dir = join(root, `host${++n}`);
    await mkdir(join(dir, 'etc/apt/sources.list.d'), { recursive: true });
    for (const [path, text] of Object.entries(files)) await writeFile(join(dir, 'etc/apt', path), text);
    return dir;
  }

  it('picks the deb stanza with a plain Debian suite, skipping security, sources and disabled ones', () => {
    assert.equal(mirrorFromDeb822(DEB822), 'http://mirror.example/debian/');
  });

  it('reads one-line sources with options in brackets', () => {
    assert.equal(mirrorFromOneLine(ONE_LINE), 'http://oneline.example/debian');
  });

  it('ignores foreign suites such as a vendor repository', () => {
    const vendor = 'Types: deb\nURIs: https://vendor.example/node_20.x\nSuites: nodistro\nComponents: main\n';
    assert.equal(mirrorFromDeb822(vendor), undefined);
    assert.equal(mirrorFromOneLine('deb https://vendor.example/apt cloud-sdk-bookworm main\n'), undefined);
  });

  it('prefers deb822 files, then sources.list, and strips the trailing slash', async () => {
    const apt = await aptRoot({ 'sources.list.d/debian.sources': DEB822, 'sources.list': ONE_LINE });
    assert.deepEqual(await findMirror({ aptRoot: apt, env: {} }), {
      url: 'http://mirror.example/debian',
      source: join(apt, 'etc/apt/sources.list.d/debian.sources'),
    });
  });

  it('falls back to the one-line sources.list', async () => {
    const apt = await aptRoot({ 'sources.list.d/vendor.sources': 'Types: deb\nURIs: https://v.example/x\nSuites: nodistro\n', 'sources.list': ONE_LINE });
    assert.equal((await findMirror({ aptRoot: apt, env: {} })).url, 'http://oneline.example/debian');
  });

  it('lets configuration and KBUILD_DEBIAN_MIRROR override apt', async () => {
    const apt = await aptRoot({ 'sources.list.d/debian.sources': DEB822 });
    const env = { KBUILD_DEBIAN_MIRROR: 'http://env.example/debian/' };
    assert.deepEqual(await findMirror({ aptRoot: apt, env }), { url: 'http://env.example/debian', source: 'KBUILD_DEBIAN_MIRROR' });
    assert.equal((await findMirror({ aptRoot: apt, env, configured: 'https://conf.example/debian' })).url, 'https://conf.example/debian');
  });

  it('fails with a ConfigError when nothing is configured', async () => {
    const apt = await aptRoot({});
    await assert.rejects(findMirror({ aptRoot: apt, env: {} }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.suggestions.join(' '), /KBUILD_DEBIAN_MIRROR/);
      return true;
    });
    await assert.rejects(findMirror({ aptRoot: apt, env: {}, configured: 'ftp://old.example/debian' }), ConfigError);
  });

  it('finds the security root in the *-security source (deb822, then one-line), or KBUILD_DEBIAN_SECURITY_MIRROR', async () => {
    const deb822 = await aptRoot({ 'sources.list.d/debian.sources': DEB822 });
    assert.deepEqual(await findSecurityMirror({ aptRoot: deb822, env: {} }), {
      url: 'http://security.example/debian-security',
      source: join(deb822, 'etc/apt/sources.list.d/debian.sources'),
    });
    const oneLine = await aptRoot({ 'sources.list': ONE_LINE });
    assert.equal((await findSecurityMirror({ aptRoot: oneLine, env: {} }))?.url, 'http://security.example/debian-security');
    const env = { KBUILD_DEBIAN_SECURITY_MIRROR: 'http://env.example/debian-security/' };
    assert.equal((await findSecurityMirror({ aptRoot: deb822, env }))?.url, 'http://env.example/debian-security');
    assert.equal(await findSecurityMirror({ aptRoot: await aptRoot({ 'sources.list': 'deb http://m.example/debian bookworm main\n' }), env: {} }), undefined);
  });
});
