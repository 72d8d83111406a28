import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchBuffer, isNotFound } from '@kbuild/loader/internal';
import { verifyClearSigned } from '../../src/repo/apt/gpgv.js';
import { findMirror, findSecurityMirror } from './mirror.js';
import { loadKernelIndex } from '../../src/repo/apt/packages-index.js';
import { parseRelease, type TrustOptions } from '../../src/repo/apt/release.js';
import { DEFAULT_KEYRING } from './index.js';
import { DEFAULT_SUITES, isSecuritySuite } from './suites.js';

/**
 * Slow: the real mirror of the host's apt sources (or KBUILD_DEBIAN_MIRROR)
 * against the keyring of this host's debian-archive-keyring package. Proves
 * the trust chain holds for real files, and that it breaks on one byte.
 */

describe('debian InRelease of the real mirror (slow: network)', { timeout: 300_000 }, () => {
  let mirror = '';
  let security: string | undefined;
  let cacheDir = '';
  const trust: TrustOptions = { archive: 'debian', keyrings: [DEFAULT_KEYRING], allowUnsigned: false, checkValidUntil: true, warn: () => undefined };

  before(async () => {
    mirror = (await findMirror()).url;
    security = (await findSecurityMirror())?.url;
    cacheDir = await mkdtemp(join(tmpdir(), 'kbuild-realrelease-'));
  });
  after(async () => rm(cacheDir, { recursive: true, force: true }));

  // Every suite searched by default; one a mirror lacks (bullseye-backports moved to the archive of old releases) is named, not failed.
  for (const suite of DEFAULT_SUITES) {
    it(`verifies the ${suite} InRelease with ${DEFAULT_KEYRING}`, async (t) => {
      const root = isSecuritySuite(suite) ? security : mirror;
      assert.ok(root !== undefined, 'the host\'s apt sources name a *-security root');
      const signed = await fetchBuffer(`${root}/dists/${suite}/InRelease`).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      if (signed === undefined) {
        t.diagnostic(`${suite}: no InRelease on this mirror (kbuild skips it)`);
        return;
      }
      const started = performance.now();
      const verified = await verifyClearSigned(signed, { keyrings: [DEFAULT_KEYRING] });
      const gpgvMs = Math.round(performance.now() - started);
      assert.ok(verified.ok, verified.ok ? '' : verified.problem);
      const release = parseRelease(verified.text);
      assert.equal(release.codename, suite);
      assert.ok(release.sha256.has('main/binary-amd64/Packages.xz'));
      assert.ok(release.sha256.has('main/binary-arm64/Packages.xz'));
      const expiry = release.validUntil === undefined ? 'none' : new Date(release.validUntil).toISOString();
      const expired = release.validUntil !== undefined && release.validUntil <= Date.now();
      t.diagnostic(`${suite} (${release.suite ?? '?'}): signed by ${verified.signers.join(', ')}; gpgv ${gpgvMs} ms; ` +
        `Valid-Until ${expiry}${expired ? ' (EXPIRED: kbuild skips this suite)' : ''}`);
    });
  }

  it('rejects the bookworm InRelease with one byte of its signed text changed', async () => {
    const signed = await fetchBuffer(`${mirror}/dists/bookworm/InRelease`);
    const at = signed.indexOf('Codename: bookworm') + 'Codename: '.length;
    signed[at] = 'B'.charCodeAt(0);
    const verified = await verifyClearSigned(signed, { keyrings: [DEFAULT_KEYRING] });
    assert.equal(verified.ok, false);
    assert.match(verified.ok ? '' : verified.problem, /bad signature/);
  });

  it('loads the bookworm amd64 index through the signed Release, and says what it costs', async (t) => {
    const location = { cacheDir, archive: 'debian', mirror, suite: 'bookworm', debArch: 'amd64' };
    const downloads: string[] = [];
    const started = performance.now();
    const result = await loadKernelIndex(location, { ttlMs: 60_000, http: {}, trust, onDownload: (url, bytes) => downloads.push(`${url.slice(mirror.length)} ${bytes} B`) });
    const totalMs = Math.round(performance.now() - started);
    assert.ok('index' in result, 'skipped' in result ? result.skipped : '');
    assert.equal(result.index.trust, 'signed');
    assert.ok(result.index.signedBy.length > 0);
    assert.ok(result.index.packages.some((p) => p.package.startsWith('linux-headers-6.1.0-')));
    t.diagnostic(`${downloads.join('; ')}; ${totalMs} ms in all`);
  });
});
