import { join } from 'node:path';
import { debianArch } from '../../builders/debian/resolve.js';
import { clangHostTriple, type Arch } from '../kernel/identity.js';
import { debianPackages } from '../repo/apt/debian-packages.js';
import type { Sysroot, SysrootOptions } from './arm64-sysroot.js';

/**
 * The libraries of the legacy guest loader: Debian bullseye's libbpf 0.3,
 * the last libbpf generation that still opens `struct bpf_map_def
 * SEC("maps")` objects (libbpf 1.x refuses them), as Falco's legacy probe
 * and suricata's filters declare their maps. Fetched with kbuild's apt code
 * like the arm64 sysroot, for either arch.
 */
export const LEGACY_SUITE = 'bullseye';
export const LEGACY_PACKAGES = ['libbpf-dev', 'libelf-dev', 'zlib1g-dev'] as const;

export async function legacySysroot(arch: Arch, options: SysrootOptions): Promise<Sysroot> {
  const unpacked = await debianPackages(
    { purpose: 'guest-legacy-sysroot', names: LEGACY_PACKAGES, suite: LEGACY_SUITE, debArch: debianArch(arch), prefix: 'usr/' },
    options,
  );
  const usr = join(unpacked.dir, 'usr');
  const triplet = clangHostTriple(arch);
  return {
    flags: [`-I${join(usr, 'include')}`, `-I${join(usr, 'include', triplet)}`, `-L${join(usr, 'lib', triplet)}`],
    identity: unpacked.packages.map((p) => `${p.name} ${p.version} ${p.sha256}`),
  };
}
