import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { xz } from '@napi-rs/lzma';
import tarStream from 'tar-stream';
import { contentKey, ensureEntry } from '../cache/content-cache.js';
import { ArchiveError, KbuildError } from '../errors.js';
import { fetchBuffer, isNotFound, type HttpOptions } from '@kbuild/loader/internal';
import type { KernelIdentity } from '../kernel/identity.js';
import { checkBtf } from './btf-header.js';

export const ARCHIVE_BTF_FILE = 'vmlinux.btf';
/** BTFHub archives hold one BTF of a few MB per kernel; anything far bigger is not one. */
const MAX_ARCHIVE_BYTES = 256 << 20;

/**
 * A BTFHub-style archive, so users can bring the BTFs they already have:
 * `<base>/<distro>/<version>/<arch>/<release>.btf.tar.xz`, each a tar holding
 * `<release>.btf`. `base` is an http(s) URL or an absolute folder; a folder
 * may omit the version, which is then searched for.
 */
export function archivePath(kernel: KernelIdentity, distroVersion: string): string {
  return `${kernel.distro}/${distroVersion}/${kernel.arch}/${kernel.release}.btf.tar.xz`;
}

export async function archiveBtf(
  base: string,
  kernel: KernelIdentity,
  options: { cacheDir: string; distroVersion?: string; http?: HttpOptions },
): Promise<{ path: string; location: string }> {
  const { bytes, location } = await readArchiveFile(base, kernel, options);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const entry = await ensureEntry(options.cacheDir, 'btf-archive', contentKey(sha256), async (dir) => {
    await writeFile(join(dir, ARCHIVE_BTF_FILE), await btfFromTarXz(bytes, `${kernel.release}.btf`, location));
  });
  return { path: join(entry.path, ARCHIVE_BTF_FILE), location };
}

async function readArchiveFile(
  base: string,
  kernel: KernelIdentity,
  options: { distroVersion?: string; http?: HttpOptions },
): Promise<{ bytes: Buffer; location: string }> {
  const trimmed = base.replace(/\/+$/, '');
  if (/^https?:\/\//.test(trimmed)) {
    if (options.distroVersion === undefined) {
      throw new KbuildError('E_BTF_SOURCE', `the BTF archive ${trimmed} is a URL: kernel ${kernel.release} needs distroVersion in kernels.yaml to build its path`);
    }
    const location = `${trimmed}/${archivePath(kernel, options.distroVersion)}`;
    try {
      return { bytes: await fetchBuffer(location, options.http ?? {}, { maxBytes: MAX_ARCHIVE_BYTES }), location };
    } catch (err) {
      if (isNotFound(err)) throw new KbuildError('E_BTF_SOURCE', `the BTF archive has no ${location}`, { cause: err });
      throw err;
    }
  }
  const versions = options.distroVersion !== undefined ? [options.distroVersion] : await folderVersions(trimmed, kernel.distro);
  for (const version of versions) {
    const location = join(trimmed, archivePath(kernel, version));
    const bytes = await readFile(location).catch(() => undefined);
    if (bytes !== undefined) return { bytes, location };
  }
  throw new KbuildError('E_BTF_SOURCE', `the BTF archive ${trimmed} has no ${archivePath(kernel, options.distroVersion ?? '*')}`);
}

async function folderVersions(base: string, distro: string): Promise<string[]> {
  const names = await readdir(join(base, distro)).catch(() => [] as string[]);
  // Archive folder names are hostile too: only version-shaped ones are joined into paths.
  return names.filter((name) => /^[0-9][0-9.]{0,15}$/.test(name)).sort();
}

/** The one `<release>.btf` member of the archive's tar.xz, validated as BTF. */
export async function btfFromTarXz(bytes: Buffer, member: string, label: string): Promise<Buffer> {
  let tar: Buffer;
  try {
    tar = await xz.decompress(bytes);
  } catch (err) {
    throw new ArchiveError(`${label}: not a valid xz file`, { cause: err });
  }
  const extract = tarStream.extract();
  extract.end(tar);
  for await (const entry of extract) {
    const name = entry.header.name.replace(/^(\.\/)+/, '');
    if (name !== member || entry.header.type !== 'file') {
      entry.resume();
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const btf = Buffer.concat(chunks);
    const check = checkBtf(btf);
    if (check.kind !== 'valid') throw new ArchiveError(`${label}: ${member} is not valid BTF (${check.reason})`);
    return btf.subarray(0, check.header.totalLength);
  }
  throw new ArchiveError(`${label}: no ${member} inside`);
}
