import { KernelNotFoundError } from '../../src/errors.js';
import { createRpmBuilder, type RpmDistroSpec } from '../../src/repo/rpm-md/rpm-builder.js';
import type { DistroBuilder } from '../types.js';

/**
 * RHEL's content needs a subscription, so there is no public default: the
 * mirror must be configured and laid out as Red Hat's CDN paths
 * (content/dist/... below the configured root, as reposync or Satellite keep them).
 */
function repos(major: number, arch: string): string[] {
  if (major === 7) return [`rhel/server/7/7Server/${arch}/os`];
  return [`rhel${major}/${major}/${arch}/appstream/os`, `rhel${major}/${major}/${arch}/baseos/os`];
}

export const rhelSpec: RpmDistroSpec = {
  distro: 'rhel',
  covers: 'Red Hat Enterprise Linux 7, 8, 9 and 10 from a configured mirror of the CDN layout; x86_64 and aarch64',
  arches: ['x86_64', 'arm64'],
  defaultMirrors: () => [],
  repos(release) {
    const dist = release.dist;
    if (dist?.kind !== 'el' || dist.major < 7) throw new KernelNotFoundError(`kernel ${release.release} not found: not a RHEL kernel (no el7..el10 tag)`);
    return repos(dist.major, release.rpmArch);
  },
  crawlRepos: (arch) => [7, 8, 9, 10].flatMap((m) => repos(m, arch)),
};

export const rhelBuilder: DistroBuilder = createRpmBuilder(rhelSpec);
