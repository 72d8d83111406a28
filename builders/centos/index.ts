import { KernelNotFoundError } from '../../src/errors.js';
import { createRpmBuilder, type RpmDistroSpec } from '../../src/repo/rpm-md/rpm-builder.js';
import type { RpmRelease } from '../../src/repo/rpm-md/rpm-release.js';
import type { DistroBuilder } from '../types.js';

/** CentOS Linux 7 and 8 (final point releases, on the vault) and CentOS Stream 8, 9 and 10. */
function layout(major: number, arch: string): string[] {
  if (major === 7) return arch === 'x86_64' ? ['7.9.2009/updates/x86_64', '7.9.2009/os/x86_64'] : ['altarch/7.9.2009/updates/aarch64', 'altarch/7.9.2009/os/aarch64'];
  if (major === 8) return ['8.5.2111/AppStream', '8.5.2111/BaseOS', '8-stream/AppStream', '8-stream/BaseOS'].map((r) => `${r}/${arch}/os`);
  return [`${major}-stream/AppStream/${arch}/os`, `${major}-stream/BaseOS/${arch}/os`];
}

const MAJORS = [7, 8, 9, 10];

export const centosSpec: RpmDistroSpec = {
  distro: 'centos',
  covers: 'CentOS Linux 7 (7.9.2009) and 8 (8.5.2111), CentOS Stream 8, 9 and 10; x86_64 and aarch64',
  arches: ['x86_64', 'arm64'],
  defaultMirrors: (release: RpmRelease | undefined) =>
    release?.dist?.kind === 'el' && release.dist.major >= 9 ? ['https://mirror.stream.centos.org'] : ['https://vault.centos.org'],
  repos(release) {
    if (release.dist?.kind !== 'el' || !MAJORS.includes(release.dist.major)) {
      throw new KernelNotFoundError(`kernel ${release.release} not found: not a CentOS kernel (no el7, el8, el9 or el10 tag)`);
    }
    return layout(release.dist.major, release.rpmArch);
  },
  crawlRepos: (arch) => MAJORS.flatMap((m) => layout(m, arch)),
};

export const centosBuilder: DistroBuilder = createRpmBuilder(centosSpec);
