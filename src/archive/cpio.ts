import { link, mkdir, open, symlink } from 'node:fs/promises';
import { ArchiveError } from '../errors.js';
import { entryPath, inPrefix, SafeTree, safeSymlinkTarget, type ExtractStats } from './safe-tree.js';

/**
 * A reader for cpio "newc" archives (the payload format of every RPM, see
 * https://rpm-software-management.github.io/rpm/manual/format_v4.html and
 * cpio(5)). Written here rather than taken from npm: the only cpio parsers
 * published there are unmaintained stream wrappers without safe extraction,
 * and newc is a 110-byte ASCII header, a name and 4-byte padding.
 */

const HEADER = 110;
const TRAILER = 'TRAILER!!!';
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const MAX_NAME = 4096;

export interface CpioEntry {
  readonly name: string;
  readonly ino: number;
  readonly mode: number;
  readonly nlink: number;
  readonly data: Buffer;
}

const pad4 = (n: number): number => (n + 3) & ~3;

function hex(header: Buffer, field: number, where: number): number {
  const text = header.toString('latin1', 6 + field * 8, 14 + field * 8);
  if (!/^[0-9a-fA-F]{8}$/.test(text)) throw new ArchiveError(`cpio header at byte ${where}: field ${field} is not hex: ${JSON.stringify(text)}`);
  return parseInt(text, 16);
}

/** Every entry of a newc archive, in order, up to its trailer; data are views into `archive`. */
export function* readCpio(archive: Buffer): Generator<CpioEntry> {
  let at = 0;
  for (;;) {
    if (at + HEADER > archive.length) throw new ArchiveError(`cpio archive ends at byte ${archive.length} without its ${TRAILER} entry`);
    const header = archive.subarray(at, at + HEADER);
    const magic = header.toString('latin1', 0, 6);
    if (magic !== '070701' && magic !== '070702') {
      throw new ArchiveError(`cpio header at byte ${at}: magic ${JSON.stringify(magic)} is not newc (070701); RPM's large-file 07070X format is not read`);
    }
    const [ino, mode, , , nlink, , size] = [0, 1, 2, 3, 4, 5, 6].map((f) => hex(header, f, at)) as [number, number, number, number, number, number, number];
    const nameSize = hex(header, 11, at);
    if (nameSize < 2 || nameSize > MAX_NAME) throw new ArchiveError(`cpio header at byte ${at}: name size ${nameSize} out of range`);
    const nameEnd = at + HEADER + nameSize;
    const dataStart = pad4(nameEnd);
    const dataEnd = dataStart + size;
    if (dataEnd > archive.length) throw new ArchiveError(`cpio entry at byte ${at} runs past the end of the archive`);
    if (archive[nameEnd - 1] !== 0) throw new ArchiveError(`cpio header at byte ${at}: name is not NUL-terminated`);
    const name = archive.toString('utf8', at + HEADER, nameEnd - 1);
    if (name === TRAILER) return;
    yield { name, ino, mode, nlink, data: archive.subarray(dataStart, dataEnd) };
    at = pad4(dataEnd);
  }
}

async function writeFileExclusive(path: string, data: Buffer, mode: number): Promise<void> {
  const file = await open(path, 'wx', mode & 0o111 ? 0o755 : 0o644);
  try {
    await file.write(data);
  } finally {
    await file.close();
  }
}

/**
 * Extracts the entries under `prefix` (e.g. "usr/src/kernels/") into `dest`,
 * with the same rules as .deb extraction. Hard links (newc gives the data to
 * the last name of an inode, the others come first with none) become links
 * to the one file written.
 */
export async function extractCpio(archive: Buffer, prefix: string, dest: string): Promise<ExtractStats> {
  const wanted = entryPath(prefix);
  const tree = new SafeTree(dest);
  const stats: ExtractStats = { files: 0, directories: 0, symlinks: 0, hardlinks: 0, droppedLinks: [], skippedSpecial: 0 };
  const waiting = new Map<number, string[]>();
  await mkdir(dest, { recursive: true });
  for (const entry of readCpio(archive)) {
    const rel = entryPath(entry.name);
    if (rel === '' || !inPrefix(rel, wanted)) continue;
    const type = entry.mode & S_IFMT;
    if (type === S_IFDIR) {
      if (await tree.ensureDir(rel)) stats.directories++;
    } else if (type === S_IFLNK) {
      const target = entry.data.toString('utf8');
      if (!safeSymlinkTarget(rel, target)) stats.droppedLinks.push(`${rel} -> ${target}`);
      else {
        await symlink(target, await tree.prepare(rel, 'symlink'));
        stats.symlinks++;
      }
    } else if (type === S_IFREG) {
      if (entry.nlink > 1 && entry.data.length === 0) {
        waiting.set(entry.ino, [...(waiting.get(entry.ino) ?? []), rel]);
        continue;
      }
      const abs = await tree.prepare(rel, 'file');
      await writeFileExclusive(abs, entry.data, entry.mode);
      stats.files++;
      for (const other of waiting.get(entry.ino) ?? []) {
        await link(abs, await tree.prepare(other, 'file'));
        stats.hardlinks++;
      }
      waiting.delete(entry.ino);
    } else stats.skippedSpecial++;
  }
  // Names of an inode whose data never came: an empty file hard-linked several times.
  for (const names of waiting.values()) {
    const [first, ...rest] = names;
    if (first === undefined) continue;
    const abs = await tree.prepare(first, 'file');
    await writeFileExclusive(abs, Buffer.alloc(0), 0o644);
    stats.files++;
    for (const other of rest) {
      await link(abs, await tree.prepare(other, 'file'));
      stats.hardlinks++;
    }
  }
  return stats;
}

