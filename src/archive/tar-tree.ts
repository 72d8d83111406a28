import { link, mkdir, open, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExtractEvents } from 'tar-stream';
import { ArchiveError } from '../errors.js';
import { entryPath, inPrefix, SafeTree, safeSymlinkTarget, type ExtractStats } from './safe-tree.js';

/**
 * Writes the entries of a parsed tar (a .deb's data.tar, an upstream source
 * tarball) into a folder through SafeTree. Shared so every tar kbuild unpacks
 * gets the same link and path rules; the limits are for archives whose size
 * is not small by construction (a source tarball may hold a tree of 100k files).
 */

export type TarEntry = ExtractEvents['entry'][1];

export interface TarLimits {
  /** Most entries of any kind (files, folders, links) extracted. */
  readonly maxEntries?: number;
  /** Most bytes of regular files written, summed. */
  readonly maxFileBytes?: number;
}

/** "wx" (O_EXCL) fails rather than follow anything that appeared at this path meanwhile. */
export async function writeEntry(entry: TarEntry, path: string, mode: number): Promise<void> {
  const file = await open(path, 'wx', mode);
  try {
    for await (const chunk of entry) await file.write(chunk as Uint8Array);
  } finally {
    await file.close();
  }
}

export function safeEntryPath(raw: string): string | undefined {
  try {
    return entryPath(raw);
  } catch {
    return undefined;
  }
}

/** A hardlink may only point at a regular file this extraction wrote (so through real folders only). */
async function addHardlink(tree: SafeTree, rel: string, linkname: string): Promise<boolean> {
  const source = safeEntryPath(linkname);
  if (source === undefined || source === rel || !tree.wroteFile(source)) return false;
  await link(join(tree.root, source), await tree.prepare(rel, 'file'));
  return true;
}

function checkLimits(stats: ExtractStats, bytes: number, limits: TarLimits): void {
  const entries = stats.files + stats.directories + stats.symlinks + stats.hardlinks + stats.skippedSpecial;
  if (limits.maxEntries !== undefined && entries > limits.maxEntries) {
    throw new ArchiveError(`archive has more than ${limits.maxEntries} entries`);
  }
  if (limits.maxFileBytes !== undefined && bytes > limits.maxFileBytes) {
    throw new ArchiveError(`archive files exceed ${limits.maxFileBytes} bytes`);
  }
}

/** Extracts the entries under `prefix` (e.g. "usr/src/", "" for all) into `dest`, keeping their full paths. */
export async function extractTarEntries(entries: AsyncIterable<TarEntry>, prefix: string, dest: string, limits: TarLimits = {}): Promise<ExtractStats> {
  const wanted = entryPath(prefix);
  const tree = new SafeTree(dest);
  const stats: ExtractStats = { files: 0, directories: 0, symlinks: 0, hardlinks: 0, droppedLinks: [], skippedSpecial: 0 };
  let bytes = 0;
  await mkdir(dest, { recursive: true });
  for await (const entry of entries) {
    const { header } = entry;
    const rel = entryPath(header.name);
    if (rel === '' || !inPrefix(rel, wanted)) {
      entry.resume();
      continue;
    }
    switch (header.type) {
      case 'directory':
        entry.resume();
        if (await tree.ensureDir(rel)) stats.directories++;
        break;
      case 'file':
      case 'contiguous-file': {
        // The header's size is checked before writing: the body cannot be longer than it says.
        bytes += header.size ?? 0;
        checkLimits(stats, bytes, limits);
        const abs = await tree.prepare(rel, 'file');
        await writeEntry(entry, abs, header.mode !== undefined && header.mode & 0o111 ? 0o755 : 0o644);
        stats.files++;
        break;
      }
      case 'symlink': {
        entry.resume();
        const target = header.linkname ?? '';
        if (!safeSymlinkTarget(rel, target)) stats.droppedLinks.push(`${rel} -> ${target}`);
        else {
          await symlink(target, await tree.prepare(rel, 'symlink'));
          stats.symlinks++;
        }
        break;
      }
      case 'link':
        entry.resume();
        if (await addHardlink(tree, rel, header.linkname ?? '')) stats.hardlinks++;
        else stats.droppedLinks.push(`${rel} => ${header.linkname}`);
        break;
      default:
        entry.resume();
        stats.skippedSpecial++;
    }
    checkLimits(stats, bytes, limits);
  }
  return stats;
}
