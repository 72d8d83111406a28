import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FetchedImage } from '../../builders/types.js';
import { contentKey, ensureEntry } from '../cache/content-cache.js';
import { IMAGE_BTF_FILE, imageBtfEntry } from '../btf/image-btf.js';
import { minimizeBtf } from '../btf/minimize.js';
import type { Arch } from '../kernel/identity.js';

export interface CutBtf {
  readonly path: string;
  readonly sha256: string;
}

/**
 * The minimized BTF a CO-RE object needs for one kernel, cut from the BTF in
 * the kernel's image (`bpftool gen min_core_btf`), as the external-BTF step
 * of a build does; cached per (image, object).
 */
export async function cutExternalBtf(cacheDir: string, image: FetchedImage, arch: Arch, objectFile: string, objectSha256: string): Promise<CutBtf> {
  const full = join(await imageBtfEntry(cacheDir, image, arch), IMAGE_BTF_FILE);
  const entry = await ensureEntry(join(cacheDir, 'verify'), 'min-btf', contentKey(image.package.sha256, objectSha256), async (dir) => {
    await minimizeBtf(full, [objectFile], join(dir, 'min.btf'));
  });
  const path = join(entry.path, 'min.btf');
  return { path, sha256: createHash('sha256').update(await readFile(path)).digest('hex') };
}
