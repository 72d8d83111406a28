/**
 * Test support only: the real Debian kernel images the BTF tests run on,
 * fetched and cached by the Debian builder like any build would get them.
 */
import { debianBuilder } from '../../builders/debian/index.js';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import type { Arch, KernelIdentity } from '../../src/kernel/identity.js';

export const TEST_KERNELS: Readonly<Record<Arch, KernelIdentity>> = {
  x86_64: { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' },
  arm64: { distro: 'debian', release: '6.1.0-50-arm64', arch: 'arm64' },
};

/** Path of the bzImage (x86_64) or Image (arm64) of one of TEST_KERNELS. */
export async function testKernelImage(kernel: KernelIdentity): Promise<string> {
  return (await debianBuilder.fetchImage(kernel, { cacheDir: cacheRoot() })).path;
}
