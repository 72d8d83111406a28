import { KernelNotFoundError } from '../../src/errors.js';
import { createRpmBuilder, type RpmDistroSpec } from '../../src/repo/rpm-md/rpm-builder.js';
import type { DistroBuilder } from '../types.js';

/** Rocky Linux 8, 9 and 10: <version>/{AppStream,BaseOS}/<arch>/os, current point releases on pub, older ones on vault. */
const repos = (version: string, arch: string): string[] => [`${version}/AppStream/${arch}/os`, `${version}/BaseOS/${arch}/os`];

/** Point releases to crawl (rpm-md cannot list folders): majors, then every minor up to the newest at the time of writing. */
const CRAWLED = [
  ...['8', '9', '10'],
  ...Array.from({ length: 11 }, (_, m) => `8.${m}`),
  ...Array.from({ length: 8 }, (_, m) => `9.${m}`),
  ...Array.from({ length: 2 }, (_, m) => `10.${m}`),
];

export const rockySpec: RpmDistroSpec = {
  distro: 'rocky',
  covers: 'Rocky Linux 8, 9 and 10 and their point releases (pub and vault); x86_64 and aarch64',
  arches: ['x86_64', 'arm64'],
  defaultMirrors: () => ['https://dl.rockylinux.org/pub/rocky', 'https://dl.rockylinux.org/vault/rocky'],
  repos(release) {
    const dist = release.dist;
    if (dist?.kind !== 'el' || dist.major < 8) throw new KernelNotFoundError(`kernel ${release.release} not found: not a Rocky Linux kernel (no el8, el9 or el10 tag)`);
    // el9_5 was built for 9.5; without a minor, the major's current tree.
    const versions = dist.minor === undefined ? [`${dist.major}`] : [`${dist.major}.${dist.minor}`, `${dist.major}`];
    return versions.flatMap((v) => repos(v, release.rpmArch));
  },
  crawlRepos: (arch) => CRAWLED.flatMap((v) => repos(v, arch)),
};

export const rockyBuilder: DistroBuilder = createRpmBuilder(rockySpec);
