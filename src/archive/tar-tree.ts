import { link, mkdir, open, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExtractEvents } from 'tar-stream';
import { ArchiveError } from '../errors.js';
import { entryPath, inPrefix, SafeTree, safeSymlinkTarget, type ExtractStats } from './safe-tree.js';
import { WritePool } from './write-pool.js';
import type { FileBlobs } from '../cache/file-blobs.js';

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

/** True for an entry (normalized path, e.g. "usr/src/x/arch/mips/Makefile", and its type and size) to leave out. */
export type EntryFilter = (path: string, entry: { readonly type: string; readonly size: number }) => boolean;

export interface ExtractTarOptions extends TarLimits {
  readonly skip?: EntryFilter;
  /** Small files become hard links to shared copies by content (trees of the kbuild cache); else each is written. */
  readonly blobs?: FileBlobs;
}

/** Files up to this size are read whole and written while the parser moves on; bigger ones stream to disk. */
const SMALL_FILE = 256 * 1024;
/** Small files written at once: memory held is at most WRITES_IN_FLIGHT * SMALL_FILE (4 MiB). */
const WRITES_IN_FLIGHT = 16;

/** "wx" (O_EXCL) fails rather than follow anything that appeared at this path meanwhile. */
export async function writeEntry(entry: TarEntry, path: string, mode: number, onBytes?: (n: number) => void): Promise<void> {
  const file = await open(path, 'wx', mode);
  try {
    for await (const chunk of entry) {
      onBytes?.((chunk as Buffer).length);
      await file.write(chunk as Uint8Array);
    }
  } finally {
    await file.close();
  }
}

async function readSmall(entry: TarEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function safeEntryPath(raw: string): string | undefined {
  try {
    return entryPath(raw);
  } catch {
    return undefined;
  }
}

/** A hardlink may only point at a regular file this extraction wrote (so through real folders only). */
async function addHardlink(tree: SafeTree, pool: WritePool, rel: string, linkname: string): Promise<boolean> {
  const source = safeEntryPath(linkname);
  if (source === undefined || source === rel || !tree.wroteFile(source)) return false;
  await pool.settle(source);
  await pool.settle(rel);
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
export async function extractTarEntries(entries: AsyncIterable<TarEntry>, prefix: string, dest: string, limits: ExtractTarOptions = {}): Promise<ExtractStats> {
  const wanted = entryPath(prefix);
  const tree = new SafeTree(dest);
  const pool = new WritePool(WRITES_IN_FLIGHT);
  try {
    return await extractInto(entries, wanted, tree, pool, limits);
  } finally {
    // Whatever happened, no write is left running once this returns (a caller may remove dest).
    await pool.drain().catch(() => undefined);
  }
}

async function extractInto(entries: AsyncIterable<TarEntry>, wanted: string, tree: SafeTree, pool: WritePool, limits: ExtractTarOptions): Promise<ExtractStats> {
  const dest = tree.root;
  const stats: ExtractStats = { files: 0, directories: 0, symlinks: 0, hardlinks: 0, droppedLinks: [], skippedSpecial: 0 };
  let bytes = 0;
  await mkdir(dest, { recursive: true });
  for await (const entry of entries) {
    const { header } = entry;
    const rel = entryPath(header.name);
    if (rel === '' || !inPrefix(rel, wanted) || limits.skip?.(rel, { type: header.type ?? 'file', size: header.size ?? 0 }) === true) {
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
        await pool.settle(rel);
        const abs = await tree.prepare(rel, 'file');
        const mode = header.mode !== undefined && header.mode & 0o111 ? 0o755 : 0o644;
        if ((header.size ?? 0) <= SMALL_FILE) {
          const body = await readSmall(entry);
          const blobs = limits.blobs;
          await pool.add(rel, () => (blobs === undefined ? writeFile(abs, body, { flag: 'wx', mode }) : blobs.place(abs, body, mode === 0o755)));
        } else await writeEntry(entry, abs, mode);
        stats.files++;
        break;
      }
      case 'symlink': {
        entry.resume();
        const target = header.linkname ?? '';
        if (!safeSymlinkTarget(rel, target)) stats.droppedLinks.push(`${rel} -> ${target}`);
        else {
          await pool.settle(rel);
          await symlink(target, await tree.prepare(rel, 'symlink'));
          stats.symlinks++;
        }
        break;
      }
      case 'link':
        entry.resume();
        if (await addHardlink(tree, pool, rel, header.linkname ?? '')) stats.hardlinks++;
        else stats.droppedLinks.push(`${rel} => ${header.linkname}`);
        break;
      default:
        entry.resume();
        stats.skippedSpecial++;
    }
    checkLimits(stats, bytes, limits);
  }
  await pool.drain();
  return stats;
}
