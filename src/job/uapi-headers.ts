import { join } from 'node:path';
import type { PackageRef } from '../../builders/types.js';
import { debianArch } from '../../builders/debian/resolve.js';
import { clangHostTriple, type Arch } from '../kernel/identity.js';
import { debianPackages } from '../repo/apt/debian-packages.js';

/**
 * CO-RE builds compile with -nostdinc against vmlinux.h, which has the
 * kernel's types but none of its UAPI macros: programs still include
 * <linux/limits.h>, <asm-generic/errno.h> or <linux/if_ether.h> for those.
 * Debian's linux-libc-dev of the target arch is the sanitized UAPI tree
 * (headers_install: no __KERNEL__ parts, no __user), the same for every
 * build machine and for cross builds; it is searched after everything else.
 * With `libc`, bookworm's libc6-dev of the arch is unpacked beside it (glibc's
 * <errno.h>, <stdint.h>, ...), and `defines` has the arch macro glibc's
 * headers test (without __x86_64__, x86's <gnu/stubs.h> wants stubs-32.h).
 */

export const UAPI_SUITE = 'bookworm';
/** The arch macro glibc's headers test. */
const ARCH_MACRO: Record<Arch, string> = { x86_64: '__x86_64__', arm64: '__aarch64__' };

export interface UapiHeaders {
  /** Folders for -idirafter, in order: the arch-independent tree, then the arch's asm/. */
  readonly dirs: readonly string[];
  /** -D flags the headers need (libc only). */
  readonly defines: readonly string[];
  readonly packages: readonly PackageRef[];
}

export async function uapiHeaders(
  arch: Arch,
  options: { cacheDir: string; mirror?: string; signal?: AbortSignal },
  libc = false,
): Promise<UapiHeaders> {
  const names = libc ? ['linux-libc-dev', 'libc6-dev'] : ['linux-libc-dev'];
  const unpacked = await debianPackages({ purpose: 'uapi', names, suite: UAPI_SUITE, debArch: debianArch(arch), prefix: 'usr/include/' }, options);
  const include = join(unpacked.dir, 'usr', 'include');
  return {
    // Debian's multiarch folder is the GNU triplet clang also targets.
    dirs: [include, join(include, clangHostTriple(arch))],
    defines: libc ? [`-D${ARCH_MACRO[arch]}`] : [],
    packages: unpacked.packages.map((p) => ({ name: p.name, version: p.version, sha256: p.sha256 })),
  };
}
