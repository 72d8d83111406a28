import assert from 'node:assert/strict';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { KernelNotFoundError } from '../../src/errors.js';
import type { KernelIdentity } from '../../src/kernel/identity.js';
import { countingFetch } from '../../test/helpers/apt-mirror.js';
import { createDebianBuilder } from './index.js';

/**
 * Slow: talks to the Debian mirror of the host's apt sources (or
 * KBUILD_DEBIAN_MIRROR). Uses the real cache root on purpose, so CI and
 * repeated runs reuse the ~15 MB of packages; the second fetch of each
 * kernel must then download nothing.
 */

const context = { cacheDir: cacheRoot() };
const kernels: [KernelIdentity, string][] = [
  [{ distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' }, 'x86'],
  [{ distro: 'debian', release: '6.1.0-50-arm64', arch: 'arm64' }, 'arm64'],
];

describe('debian builder against the real mirror (slow: network)', { timeout: 600_000 }, () => {
  for (const [kernel, srcArch] of kernels) {
    it(`fetches headers for ${kernel.release} (${kernel.arch}), then again from the cache alone`, async () => {
      const headers = await createDebianBuilder().fetchHeaders(kernel, context);
      const { flavour, common, versionCode } = headers.trees;
      for (const file of ['.config', 'include/generated/autoconf.h', `arch/${srcArch}/include/generated/asm`]) {
        await stat(join(flavour, file));
      }
      for (const file of ['include/linux/kconfig.h', 'include/linux/compiler_types.h', `arch/${srcArch}/include/asm`]) {
        await stat(join(common, file));
      }
      assert.equal(versionCode !== undefined && versionCode >> 8, (6 << 8) + 1, 'LINUX_VERSION_CODE is 6.1.x');
      // Only what compiles read: both built arches' folders (one tree serves both), no other arch's, no empty config stamps.
      for (const file of ['arch/x86/Makefile', 'arch/arm64/Makefile']) await stat(join(common, file));
      assert.deepEqual(await readdir(join(common, 'arch', 'mips')), []);
      assert.deepEqual((await readdir(join(flavour, 'include', 'config'))).sort(), ['auto.conf', 'kernel.release']);
      assert.deepEqual(
        headers.packages.map((p) => p.name),
        [`linux-headers-${kernel.release}`, 'linux-headers-6.1.0-50-common'],
      );
      assert.equal(headers.packages[0]?.suite, 'bookworm');

      const counter = countingFetch();
      const again = await createDebianBuilder({ http: { fetch: counter.fetch } }).fetchHeaders(kernel, context);
      assert.deepEqual(counter.urls, []);
      assert.equal(again.fromCache, true);
      assert.deepEqual(again.trees, headers.trees);
    });
  }

  it('shares the -common files of amd64 and arm64 through hard links', async () => {
    const builder = createDebianBuilder();
    const [amd64, arm64] = await Promise.all(kernels.map(([kernel]) => builder.fetchHeaders(kernel, context)));
    const file = 'include/linux/kconfig.h';
    const [a, b] = await Promise.all([stat(join(amd64?.trees.common ?? '', file)), stat(join(arm64?.trees.common ?? '', file))]);
    assert.notEqual(amd64?.trees.common, arm64?.trees.common);
    assert.equal(a.ino, b.ino);
  });

  it('fetches the bzImage of linux-image-6.1.0-50-cloud-amd64-unsigned', async () => {
    const kernel = kernels[0]?.[0];
    assert.ok(kernel !== undefined);
    const image = await createDebianBuilder().fetchImage(kernel, context);
    assert.equal(image.package.name, 'linux-image-6.1.0-50-cloud-amd64-unsigned');
    const file = await open(image.path, 'r');
    const header = Buffer.alloc(0x206);
    await file.read(header, 0, header.length, 0);
    await file.close();
    assert.equal(header.toString('latin1', 0x202, 0x206), 'HdrS', 'x86 boot protocol magic');
  });

  it('reports an unknown arm64 release with every suite searched', async () => {
    const kernel: KernelIdentity = { distro: 'debian', release: '6.1.0-9999-arm64', arch: 'arm64' };
    await assert.rejects(createDebianBuilder().fetchHeaders(kernel, context), (err: unknown) => {
      assert.ok(err instanceof KernelNotFoundError);
      assert.match(err.message, /^kernel 6\.1\.0-9999-arm64 \(arm64\) not found in debian suites bullseye, bullseye-security, bullseye-updates, bullseye-backports, bookworm, .*, sid \(https?:\/\//);
      return true;
    });
  });
});
