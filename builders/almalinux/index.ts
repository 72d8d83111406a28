import { elRebuildSpec } from '../../src/repo/rpm-md/el-rebuild-spec.js';
import { createRpmBuilder } from '../../src/repo/rpm-md/rpm-builder.js';
import type { DistroBuilder } from '../types.js';

/** AlmaLinux 8, 9 and 10: current point releases on repo, older ones on the vault. */
export const almalinuxSpec = elRebuildSpec({
  distro: 'almalinux',
  name: 'AlmaLinux',
  covers: 'AlmaLinux 8, 9 and 10 and their point releases (repo and vault); x86_64 and aarch64',
  mirrors: ['https://repo.almalinux.org/almalinux', 'https://vault.almalinux.org'],
});

export const almalinuxBuilder: DistroBuilder = createRpmBuilder(almalinuxSpec);
