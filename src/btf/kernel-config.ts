import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Whether a kernel exposes /sys/kernel/btf/vmlinux, read from the .config its
 * header package ships; undefined when the tree has no .config.
 */
export async function kernelConfigHasBtf(flavourTree: string): Promise<boolean | undefined> {
  const text = await readFile(join(flavourTree, '.config'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  return /^CONFIG_DEBUG_INFO_BTF=y$/m.test(text);
}
