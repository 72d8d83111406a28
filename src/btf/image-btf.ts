import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FetchedImage } from '../../builders/types.js';
import { ensureEntry } from '../cache/content-cache.js';
import type { Arch } from '../kernel/identity.js';
import { extractBtfFromImage } from './extract-image.js';
import { generateVmlinuxHeader } from './vmlinux-header.js';

export const IMAGE_BTF_FILE = 'vmlinux.btf';

/**
 * The BTF of a kernel image and the vmlinux.h made from it, cached per image
 * package (content-addressed by its sha256): CO-RE compiles of every probe and
 * the external-BTF step of every kernel share one extraction.
 */
export async function imageBtfEntry(cacheDir: string, image: FetchedImage, arch: Arch): Promise<string> {
  const entry = await ensureEntry(cacheDir, 'vmlinux-h', image.package.sha256, async (dir) => {
    const btf = await extractBtfFromImage(image.path, arch);
    await writeFile(join(dir, IMAGE_BTF_FILE), btf);
    await generateVmlinuxHeader(join(dir, IMAGE_BTF_FILE), join(dir, 'vmlinux.h'));
  });
  return entry.path;
}
