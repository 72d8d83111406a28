import { KernelNotFoundError } from '../../src/errors.js';
import { createRpmBuilder, type RpmDistroSpec } from '../../src/repo/rpm-md/rpm-builder.js';
import type { DistroBuilder } from '../types.js';

/** AlmaLinux 8, 9 and 10: <version>/{AppStream,BaseOS}/<arch>/os, older point releases on the vault. */
const repos = (version: string, arch: string): string[] => [`${version}/AppStream/${arch}/os`, `${version}/BaseOS/${arch}/os`];

/** Point releases to crawl (rpm-md cannot list folders): majors, then every minor up to the newest at the time of writing. */
const CRAWLED = [
  ...['8', '9', '10'],
  ...Array.from({ length: 11 }, (_, m) => `8.${m}`),
  ...Array.from({ length: 8 }, (_, m) => `9.${m}`),
  ...Array.from({ length: 2 }, (_, m) => `10.${m}`),
];

export const almalinuxSpec: RpmDistroSpec = {
  distro: 'almalinux',
  covers: 'AlmaLinux 8, 9 and 10 and their point releases (repo and vault); x86_64 and aarch64',
  arches: ['x86_64', 'arm64'],
  defaultMirrors: () => ['https://repo.almalinux.org/almalinux', 'https://vault.almalinux.org'],
  repos(release) {
    const dist = release.dist;
    if (dist?.kind !== 'el' || dist.major < 8) throw new KernelNotFoundError(`kernel ${release.release} not found: not an AlmaLinux kernel (no el8, el9 or el10 tag)`);
    const versions = dist.minor === undefined ? [`${dist.major}`] : [`${dist.major}.${dist.minor}`, `${dist.major}`];
    return versions.flatMap((v) => repos(v, release.rpmArch));
  },
  crawlRepos: (arch) => CRAWLED.flatMap((v) => repos(v, arch)),
};

export const almalinuxBuilder: DistroBuilder = createRpmBuilder(almalinuxSpec);
