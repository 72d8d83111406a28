import { join } from 'node:path';
import { debianPackages } from '../repo/apt/debian-packages.js';

/**
 * The static libraries the arm64 guest loader links (libbpf and what its .a
 * needs), from Debian's own arm64 packages: fetched with kbuild's apt code
 * (checked against the signed archive index, from the host's mirror, as the
 * Debian builder fetches kernels) and unpacked into a private folder, so
 * the host needs no dpkg multiarch. The packages are those of the suite the
 * cross toolchain (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross) comes from.
 */

export interface SysrootOptions {
  readonly cacheDir: string;
  readonly mirror?: string;
  readonly signal?: AbortSignal;
}

export interface Sysroot {
  /** Compiler flags: include and library folders. */
  readonly flags: readonly string[];
  /** Name, version and sha256 of each package: part of the guest loader's cache key. */
  readonly identity: readonly string[];
}

export const SYSROOT_SUITE = 'bookworm';
export const SYSROOT_PACKAGES = ['libbpf-dev', 'libelf-dev', 'zlib1g-dev', 'libzstd-dev'] as const;
const TRIPLET = 'aarch64-linux-gnu';

export async function arm64Sysroot(options: SysrootOptions): Promise<Sysroot> {
  const unpacked = await debianPackages(
    { purpose: 'guest-sysroot', names: SYSROOT_PACKAGES, suite: SYSROOT_SUITE, debArch: 'arm64', prefix: 'usr/' },
    options,
  );
  const usr = join(unpacked.dir, 'usr');
  return {
    flags: [`-I${join(usr, 'include')}`, `-I${join(usr, 'include', TRIPLET)}`, `-L${join(usr, 'lib', TRIPLET)}`],
    identity: unpacked.packages.map((p) => `${p.name} ${p.version} ${p.sha256}`),
  };
}
