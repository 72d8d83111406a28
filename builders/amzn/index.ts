import { KernelNotFoundError } from '../../src/errors.js';
import { createRpmBuilder, type RpmDistroSpec } from '../../src/repo/rpm-md/rpm-builder.js';
import type { RpmRelease } from '../../src/repo/rpm-md/rpm-release.js';
import type { DistroBuilder } from '../types.js';

/**
 * Amazon Linux repositories are reached through a mirror.list whose line is
 * the repository's real (GUID-versioned) base URL. AL2 ships 4.14 in core and
 * 5.4/5.10/5.15 as extras topics; AL2023 ships 6.1+ in core.
 */
const AL2_EXTRAS = ['5.4', '5.10', '5.15'];

function al2(majorMinor: string | undefined, arch: string): string[] {
  const extras = (majorMinor === undefined ? AL2_EXTRAS : AL2_EXTRAS.filter((v) => v === majorMinor)).map((v) => `2/extras/kernel-${v}/latest/${arch}/mirror.list`);
  return [...extras, `2/core/latest/${arch}/mirror.list`];
}
const al2023 = (arch: string): string[] => [`al2023/core/mirrors/latest/${arch}/mirror.list`];

export const amznSpec: RpmDistroSpec = {
  distro: 'amzn',
  covers: 'Amazon Linux 2 (4.14 core, 5.4/5.10/5.15 extras) and Amazon Linux 2023; x86_64 and aarch64',
  arches: ['x86_64', 'arm64'],
  defaultMirrors: (release: RpmRelease | undefined) =>
    release?.dist?.major === 2023 ? ['https://cdn.amazonlinux.com'] : ['https://amazonlinux-2-repos-us-east-1.s3.dualstack.us-east-1.amazonaws.com'],
  repos(release) {
    const dist = release.dist;
    if (dist?.kind !== 'amzn') throw new KernelNotFoundError(`kernel ${release.release} not found: not an Amazon Linux kernel (no amzn2 or amzn2023 tag)`);
    return dist.major === 2023 ? al2023(release.rpmArch) : al2(release.majorMinor, release.rpmArch);
  },
  crawlRepos: (arch) => [...al2(undefined, arch), ...al2023(arch)],
};

export const amznBuilder: DistroBuilder = createRpmBuilder(amznSpec);
