import { elRebuildSpec } from '../../src/repo/rpm-md/el-rebuild-spec.js';
import { createRpmBuilder } from '../../src/repo/rpm-md/rpm-builder.js';
import type { DistroBuilder } from '../types.js';

/** Rocky Linux 8, 9 and 10: current point releases on pub, older ones on vault. */
export const rockySpec = elRebuildSpec({
  distro: 'rocky',
  name: 'Rocky Linux',
  covers: 'Rocky Linux 8, 9 and 10 and their point releases (pub and vault); x86_64 and aarch64',
  mirrors: ['https://dl.rockylinux.org/pub/rocky', 'https://dl.rockylinux.org/vault/rocky'],
});

export const rockyBuilder: DistroBuilder = createRpmBuilder(rockySpec);
