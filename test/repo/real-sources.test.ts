import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { PackageNotFoundError } from '../../src/repo/apt/errors.js';
import { fetchSourcePackage } from '../../src/repo/apt/source-package.js';
import { realProject, realProjectSource, REAL_PROJECTS, type RealProjectName } from '../helpers/real-projects.js';

/**
 * Slow: downloads source packages from the host's Debian mirror into the real
 * cache root (falcosecurity-libs is 4.5 MB; all five ~40 MB), once.
 */

describe('Debian source packages (slow: network)', { timeout: 900_000 }, () => {
  it('fetches falcosecurity-libs 0.20.0 from trixie: checked files, upstream tree, then from the cache', async () => {
    const first = await realProjectSource('falcosecurity-libs');
    assert.match(first.version, /^0\.20\.0-/);
    // Only the upstream tarball: neither the .dsc nor Debian's packaging is fetched.
    assert.deepEqual(first.files.map((f) => f.name), ['falcosecurity-libs_0.20.0.orig.tar.gz']);
    const cmake = await readFile(join(first.dir, 'driver', 'modern_bpf', 'CMakeLists.txt'), 'utf8');
    assert.match(cmake, /modern_bpf|bpftool|clang/i);
    await stat(join(first.dir, 'driver', 'modern_bpf', 'programs'));

    const again = await fetchSourcePackage({ name: 'falcosecurity-libs', version: first.version, suite: 'trixie' }, { cacheDir: cacheRoot() });
    assert.equal(again.dir, first.dir);
  });

  it('names the versions the suite has when the one asked for is missing', async () => {
    await assert.rejects(fetchSourcePackage({ name: 'libbpf', version: '0.0.1', suite: 'trixie' }, { cacheDir: cacheRoot() }), (err: unknown) => {
      assert.ok(err instanceof PackageNotFoundError);
      assert.match(err.message, /available: 1\.5\.0-3 \(trixie\)/);
      return true;
    });
  });

  it('refuses sid while its Release is expired, unless the caller opts in', async (t) => {
    const sid = { name: 'libbpf', suite: 'sid' };
    const refused = await fetchSourcePackage(sid, { cacheDir: cacheRoot() }).then(() => undefined, (err: unknown) => err);
    if (refused === undefined) return t.skip('this mirror has a current sid Release');
    assert.ok(refused instanceof PackageNotFoundError);
    assert.match(refused.message, /expired/);
  });

  const markers: Record<RealProjectName, string> = {
    'falcosecurity-libs': 'driver/modern_bpf/CMakeLists.txt',
    suricata: 'ebpf/xdp_filter.c',
    systemd: 'src/core/bpf/restrict_fs/restrict-fs.bpf.c',
    libbpf: 'src/bpf_helpers.h',
    'xdp-tools': 'lib/libxdp/xdp-dispatcher.c.in',
    opensnitch: 'ebpf_prog/opensnitch.c',
    bpftune: 'include/bpftune/bpftune.bpf.h',
    pwru: 'bpf/headers/vmlinux-x86.h',
  };
  for (const name of Object.keys(REAL_PROJECTS) as RealProjectName[]) {
    it(`corpus project ${name} downloads and has ${markers[name]}`, async () => {
      await stat(join(await realProject(name), markers[name]));
    });
  }
});
