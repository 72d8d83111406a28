import tarStream from 'tar-stream';
import { ArchiveError } from '../errors.js';
import { writeAtomically } from '@kbuild/loader/internal';
import { listArMembers, readArMember } from './ar.js';
import { decompressBounded, maxUnpackedBytes } from './bounded-decompress.js';
import { entryPath, type ExtractStats } from './safe-tree.js';
import { extractTarEntries, safeEntryPath, writeEntry, type TarEntry } from './tar-tree.js';
import { timePhase } from '../metrics/events.js';

export { entryPath, safeSymlinkTarget, type ExtractStats } from './safe-tree.js';

/**
 * Reads .deb packages (ar: debian-binary, control.tar.*, data.tar.*) and
 * extracts parts of data.tar. Contents are treated as hostile: nothing is ever
 * written outside the destination, and never through a symlink.
 */

/** Returns data.tar, decompressed and at most maxUnpackedBytes() long. The whole tar is held in memory (a kernel image is ~100 MB). */
export async function readDataTar(debPath: string): Promise<Buffer> {
  const members = await listArMembers(debPath);
  const first = members[0];
  if (first?.name !== 'debian-binary') throw new ArchiveError(`${debPath}: not a .deb (no debian-binary first)`);
  const format = (await readArMember(debPath, first)).toString('latin1');
  if (!/^2\.[0-9]+\n$/.test(format)) throw new ArchiveError(`${debPath}: unsupported .deb format ${JSON.stringify(format)}`);
  const data = members.find((m) => m.name.startsWith('data.tar'));
  const compression = data === undefined ? undefined : data.name.slice('data.tar.'.length);
  if (data === undefined || (data.name !== 'data.tar' && !['xz', 'zst', 'gz'].includes(compression ?? ''))) {
    throw new ArchiveError(`${debPath}: no data.tar, data.tar.xz, data.tar.zst or data.tar.gz member`);
  }
  if (data.name === 'data.tar') {
    if (data.size > maxUnpackedBytes()) throw new ArchiveError(`${debPath}: data.tar is larger than ${maxUnpackedBytes()} bytes (KBUILD_MAX_UNPACKED_BYTES raises the limit)`);
    return readArMember(debPath, data);
  }
  return decompressBounded(await readArMember(debPath, data), compression ?? '', `${debPath}: ${data.name}`);
}

/** A generator so parsing starts only when iterated: entries emitted before a reader is attached would be lost. */
async function* parseTar(tar: Buffer): AsyncGenerator<TarEntry> {
  const extract = tarStream.extract();
  extract.end(tar);
  yield* extract;
}

/** Extracts the entries of a tar under `prefix` (e.g. "usr/src/") into `dest`, keeping their full paths. */
export async function extractTar(tar: Buffer, prefix: string, dest: string): Promise<ExtractStats> {
  return extractTarEntries(parseTar(tar), prefix, dest);
}

/** Extracts `prefix` (e.g. "usr/src/") of a .deb's data.tar into `dest`. */
export async function extractDebPrefix(debPath: string, prefix: string, dest: string): Promise<ExtractStats> {
  return timePhase('extract', async () => {
    const tar = await readDataTar(debPath);
    try {
      return await extractTar(tar, prefix, dest);
    } catch (err) {
      if (err instanceof ArchiveError) throw new ArchiveError(`${debPath}: ${err.message}`, { cause: err });
      throw err;
    }
  });
}

/**
 * Copies one regular file of a .deb (e.g. "boot/vmlinuz-6.1.0-50-amd64") to
 * `destFile` without extracting anything else; written to a temporary name
 * and renamed so `destFile` is complete or absent.
 */
export async function extractDebMember(debPath: string, member: string, destFile: string): Promise<void> {
  return timePhase('extract', () => extractMember(debPath, member, destFile));
}

async function extractMember(debPath: string, member: string, destFile: string): Promise<void> {
  const wanted = entryPath(member);
  for await (const entry of parseTar(await readDataTar(debPath))) {
    if (safeEntryPath(entry.header.name) !== wanted) {
      entry.resume();
      continue;
    }
    if (entry.header.type !== 'file') {
      entry.resume();
      throw new ArchiveError(`${debPath}: ${member} is a ${entry.header.type}, not a regular file`);
    }
    await writeAtomically(destFile, (tmp) => writeEntry(entry, tmp, 0o644));
    return;
  }
  throw new ArchiveError(`${debPath}: no ${member} in data.tar`);
}
