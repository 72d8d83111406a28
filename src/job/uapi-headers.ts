import { join } from 'node:path';
import type { PackageRef } from '../../builders/types.js';
import type { Arch } from '../kernel/identity.js';
import { debianPackages } from '../repo/apt/debian-packages.js';

/**
 * CO-RE builds compile with -nostdinc against vmlinux.h, which has the
 * kernel's types but none of its UAPI macros: programs still include
 * <linux/limits.h>, <asm-generic/errno.h> or <linux/if_ether.h> for those.
 * Debian's linux-libc-dev of the target arch is the sanitized UAPI tree
 * (headers_install: no __KERNEL__ parts, no __user), the same for every
 * build machine and for cross builds; it is searched after everything else.
 */

export const UAPI_SUITE = 'bookworm';
const DEB_ARCH: Record<Arch, { debArch: string; triplet: string }> = {
  x86_64: { debArch: 'amd64', triplet: 'x86_64-linux-gnu' },
  arm64: { debArch: 'arm64', triplet: 'aarch64-linux-gnu' },
};

export interface UapiHeaders {
  /** Folders for -idirafter, in order: the arch-independent tree, then the arch's asm/. */
  readonly dirs: readonly string[];
  readonly package: PackageRef;
}

export async function uapiHeaders(arch: Arch, options: { cacheDir: string; mirror?: string; signal?: AbortSignal }): Promise<UapiHeaders> {
  const { debArch, triplet } = DEB_ARCH[arch];
  const unpacked = await debianPackages({ purpose: 'uapi', names: ['linux-libc-dev'], suite: UAPI_SUITE, debArch, prefix: 'usr/include/' }, options);
  const include = join(unpacked.dir, 'usr', 'include');
  const pkg = unpacked.packages[0]!;
  return { dirs: [include, join(include, triplet)], package: { name: pkg.name, version: pkg.version, sha256: pkg.sha256 } };
}
