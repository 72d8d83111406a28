import { readFile } from 'node:fs/promises';
import { parseElf64 } from '../btf/elf-section.js';

/**
 * Whether an object declares its maps the pre-BTF way, `struct bpf_map_def
 * SEC("maps")`, which libbpf 1.x refuses to open: such objects go to the
 * legacy guest loader (a pre-1.0 libbpf), as their projects load them.
 * An object that does not parse is left to libbpf to refuse with its own words.
 */
export async function usesLegacyMaps(objectFile: string): Promise<boolean> {
  try {
    return parseElf64(await readFile(objectFile), objectFile).sections.some((s) => s.name === 'maps');
  } catch {
    return false;
  }
}
