import { almalinuxBuilder } from './almalinux/index.js';
import { amznBuilder } from './amzn/index.js';
import { centosBuilder } from './centos/index.js';
import { debianBuilder } from './debian/index.js';
import { fedoraBuilder } from './fedora/index.js';
import { rhelBuilder } from './rhel/index.js';
import { rockyBuilder } from './rocky/index.js';
import { ubuntuBuilder } from './ubuntu/index.js';
import type { DistroBuilder } from './types.js';

/**
 * Every distro builder, keyed by the `distro` name used in kernels.yaml and in
 * artifact names. A test checks that each folder under builders/ is listed here
 * under its own name and passes the shared contract.
 */
export const builders: Readonly<Record<string, DistroBuilder>> = {
  almalinux: almalinuxBuilder,
  amzn: amznBuilder,
  centos: centosBuilder,
  debian: debianBuilder,
  fedora: fedoraBuilder,
  rhel: rhelBuilder,
  rocky: rockyBuilder,
  ubuntu: ubuntuBuilder,
};

export function builderFor(distro: string): DistroBuilder | undefined {
  return Object.hasOwn(builders, distro) ? builders[distro] : undefined;
}
