import { readFile } from 'node:fs/promises';
import { parseElf64 } from '../btf/elf-section.js';

/**
 * How an object declares its maps, which decides the guest loader:
 * - `btf`: `SEC(".maps")` (or no maps), for libbpf 1.x;
 * - `legacy`: `struct bpf_map_def SEC("maps")`, which libbpf 1.x refuses to
 *   open: the legacy guest loader (a pre-1.0 libbpf) takes them, as their
 *   projects load them;
 * - `per-map-sections`: one `maps/<name>` section per map, the ELF layout of
 *   gobpf's loader (iovisor/gobpf/elf; opensnitch 1.6), whose map definition
 *   carries pinning and a namespace. No libbpf opens it (any version fails on
 *   the first relocation against such a map): the guest loads it the way
 *   gobpf does (images/guest/gobpf-loader.c).
 * An object that does not parse is `btf`, left to libbpf to refuse with its own words.
 */
export type MapLayout = 'btf' | 'legacy' | 'per-map-sections';

export async function mapLayout(objectFile: string): Promise<MapLayout> {
  let names: string[];
  try {
    names = parseElf64(await readFile(objectFile), objectFile).sections.map((s) => s.name);
  } catch {
    return 'btf';
  }
  if (names.includes('maps')) return 'legacy';
  return names.some((n) => n.startsWith('maps/')) ? 'per-map-sections' : 'btf';
}

/** gobpf's loader takes no external BTF (it does no CO-RE relocation). */
export const PER_MAP_SECTIONS_NO_BTF = "gobpf's ELF loader, which objects with per-map 'maps/<name>' sections are loaded like, takes no external BTF";
