/**
 * Where a kernel's full BTF can come from, in the default order they are
 * tried: the BTF embedded in the distro's kernel image (cheapest), DWARF from
 * the distro's debug package turned into BTF by `pahole -J`, then an existing
 * BTFHub-style archive the user points at.
 */
export const BTF_SOURCES = ['image', 'dbg', 'archive'] as const;
export type BtfSourceName = (typeof BTF_SOURCES)[number];
