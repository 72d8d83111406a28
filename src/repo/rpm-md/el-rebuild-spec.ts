import type { Arch } from '../../kernel/identity.js';
import { KernelNotFoundError } from '../../errors.js';
import type { RpmDistroSpec } from './rpm-builder.js';

/**
 * RHEL rebuilds laid out alike (Rocky Linux, AlmaLinux):
 * <version>/{AppStream,BaseOS}/<arch>/os, where <version> is the major or a point release,
 * and an `el<major>[_<minor>]` tag in the kernel release says which.
 */
export interface ElRebuild {
  readonly distro: string;
  /** Human name, for messages: "Rocky Linux". */
  readonly name: string;
  readonly covers: string;
  /** Current tree first, then the vault of older point releases. */
  readonly mirrors: readonly string[];
}

const ARCHES: readonly Arch[] = ['x86_64', 'arm64'];

const repos = (version: string, arch: string): string[] => [`${version}/AppStream/${arch}/os`, `${version}/BaseOS/${arch}/os`];

/** Point releases to crawl (rpm-md cannot list folders): majors, then every minor up to the newest at the time of writing. */
const CRAWLED = [
  ...['8', '9', '10'],
  ...Array.from({ length: 11 }, (_, m) => `8.${m}`),
  ...Array.from({ length: 8 }, (_, m) => `9.${m}`),
  ...Array.from({ length: 2 }, (_, m) => `10.${m}`),
];

export function elRebuildSpec(rebuild: ElRebuild): RpmDistroSpec {
  return {
    distro: rebuild.distro,
    covers: rebuild.covers,
    arches: ARCHES,
    defaultMirrors: () => rebuild.mirrors,
    repos(release) {
      const dist = release.dist;
      if (dist?.kind !== 'el' || dist.major < 8) {
        throw new KernelNotFoundError(`kernel ${release.release} not found: not a ${rebuild.name} kernel (no el8, el9 or el10 tag)`);
      }
      // el9_5 was built for 9.5; without a minor, the major's current tree.
      const versions = dist.minor === undefined ? [`${dist.major}`] : [`${dist.major}.${dist.minor}`, `${dist.major}`];
      return versions.flatMap((v) => repos(v, release.rpmArch));
    },
    crawlRepos: (arch) => CRAWLED.flatMap((v) => repos(v, arch)),
  };
}
