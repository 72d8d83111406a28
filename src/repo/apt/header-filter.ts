import type { EntryFilter } from '../../archive/tar-tree.js';
import { ARCHES, kernelSourceArch } from '../../kernel/identity.js';

/**
 * What compiles need of a kernel's header packages; the rest is left out of
 * the extraction, since creating files is what a cold build spends its time on.
 *
 * - The `-common` package (Debian's linux-headers-<abi>-common, Ubuntu's
 *   linux-headers-<abi>): a build reads one arch folder, by the kernel's
 *   include order (arch/<arch>/include...) and its Makefile
 *   (arch/$(SRCARCH)/Makefile); the other arches are ~30% of the package's
 *   files. The folders of every arch kbuild builds for are kept (x86 and
 *   arm64, ~3 MB together), so one extracted tree still serves every flavour
 *   AND arch of an ABI: the package is Architecture: all, the same file for
 *   amd64 and arm64 kernels.
 * - The flavour package: include/config/ holds one EMPTY file per enabled
 *   option (6.4k of the package's 6.5k files for 6.1 amd64), stamps that
 *   make's dependency tracking names as `$(wildcard include/config/FOO)`;
 *   no compile reads them and a missing one is fine. Its non-empty files
 *   (auto.conf, which the kernel's Makefile includes, kernel.release) stay.
 */

/** Bumped when a filter changes: part of every header tree's cache key. */
export const HEADER_LAYOUT = 'headers-v2';

const KEPT = new Set(ARCHES.map(kernelSourceArch));
/** usr/src/<tree>/arch/<arch>/<anything>: the folder entry itself stays (an empty folder costs nothing). */
const IN_ARCH = /^usr\/src\/[^/]+\/arch\/([^/]+)\/./;
const IN_CONFIG = /^usr\/src\/[^/]+\/include\/config\/./;

export const skipOtherArches: EntryFilter = (path) => {
  const arch = IN_ARCH.exec(path)?.[1];
  return arch !== undefined && !KEPT.has(arch);
};

/** Empty stamp files (and the folders that hold them before 5.13's flat layout); parents of kept files are made anyway. */
export const skipConfigStamps: EntryFilter = (path, entry) =>
  IN_CONFIG.test(path) && (entry.type === 'directory' || (entry.type === 'file' && entry.size === 0));
