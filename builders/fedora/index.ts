import { KernelNotFoundError } from '../../src/errors.js';
import { createRpmBuilder, type RpmDistroSpec } from '../../src/repo/rpm-md/rpm-builder.js';
import type { DistroBuilder } from '../types.js';

/** releases/<N>/Everything/<arch>/os holds the GA kernel, updates/<N>/Everything/<arch> every later one; old releases move to the archive. */
const repos = (major: number, arch: string): string[] => [`updates/${major}/Everything/${arch}`, `releases/${major}/Everything/${arch}/os`];
const CRAWLED = [39, 40, 41, 42, 43];

export const fedoraSpec: RpmDistroSpec = {
  distro: 'fedora',
  covers: 'Fedora releases with an fcNN kernel (current on dl.fedoraproject.org, older on the archive); x86_64 and aarch64',
  arches: ['x86_64', 'arm64'],
  defaultMirrors: () => ['https://dl.fedoraproject.org/pub/fedora/linux', 'https://archives.fedoraproject.org/pub/archive/fedora/linux'],
  repos(release) {
    if (release.dist?.kind !== 'fc') throw new KernelNotFoundError(`kernel ${release.release} not found: not a Fedora kernel (no fcNN tag)`);
    return repos(release.dist.major, release.rpmArch);
  },
  crawlRepos: (arch) => CRAWLED.flatMap((m) => repos(m, arch)),
};

export const fedoraBuilder: DistroBuilder = createRpmBuilder(fedoraSpec);
