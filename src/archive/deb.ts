import tarStream from 'tar-stream';
import { ArchiveError } from '../errors.js';
import { writeAtomically } from '@kbuild/loader/internal';
import { withDataTar } from './deb-stream.js';
import { entryPath, type ExtractStats } from './safe-tree.js';
import { extractTarEntries, safeEntryPath, writeEntry, type EntryFilter, type TarEntry } from './tar-tree.js';
import { timePhase } from '../metrics/events.js';
import { cpuSlots } from '../util/cpu-slots.js';
import type { FileBlobs } from '../cache/file-blobs.js';

export { entryPath, safeSymlinkTarget, type ExtractStats } from './safe-tree.js';
export type { EntryFilter } from './tar-tree.js';

/**
 * Reads .deb packages (ar: debian-binary, control.tar.*, data.tar.*) and
 * extracts parts of data.tar, streamed (see deb-stream.ts): memory does not
 * grow with the package. Contents are treated as hostile: nothing is ever
 * written outside the destination, and never through a symlink.
 */

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

export interface ExtractOptions {
  /** Entries (by normalized path) to leave out, e.g. other arches' headers. */
  readonly skip?: EntryFilter;
  /** Small files as hard links to shared copies by content (see FileBlobs). */
  readonly blobs?: FileBlobs;
  readonly signal?: AbortSignal | undefined;
}

/** Decompressing and writing keep a core busy: timed as the extract phase, run holding a CPU slot. */
function extracting<T>(fn: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  return cpuSlots().run(() => timePhase('extract', fn), signal);
}

/** Extracts `prefix` (e.g. "usr/src/") of a .deb's data.tar into `dest`. */
export async function extractDebPrefix(debPath: string, prefix: string, dest: string, options: ExtractOptions = {}): Promise<ExtractStats> {
  return extracting(async () => {
    try {
      return await withDataTar(debPath, (entries) => extractTarEntries(entries, prefix, dest, options), {
        whole: true,
        signal: options.signal,
      });
    } catch (err) {
      if (err instanceof ArchiveError && !err.message.startsWith(debPath)) throw new ArchiveError(`${debPath}: ${err.message}`, { cause: err });
      throw err;
    }
  }, options.signal);
}

export interface MemberOptions {
  readonly signal?: AbortSignal | undefined;
  /** Bytes of data.tar read at most before the member is found (default maxUnpackedBytes()). */
  readonly maxBytes?: number;
}

/**
 * Copies one regular file of a .deb (e.g. "boot/vmlinuz-6.1.0-50-amd64") to
 * `destFile` without extracting anything else, and stops decompressing once
 * it is written (a kernel image's vmlinuz comes first in its ~400 MB data.tar);
 * written to a temporary name and renamed so `destFile` is complete or absent.
 */
export async function extractDebMember(debPath: string, member: string, destFile: string, options: MemberOptions = {}): Promise<{ size: number }> {
  const wanted = entryPath(member);
  return extracting(
    () => withDataTar(
      debPath,
      async (entries, dataName) => {
        for await (const entry of entries) {
          if (safeEntryPath(entry.header.name) !== wanted) {
            entry.resume();
            continue;
          }
          if (entry.header.type !== 'file') throw new ArchiveError(`${debPath}: ${member} is a ${entry.header.type}, not a regular file`);
          let size = 0;
          await writeAtomically(destFile, (tmp) => writeEntry(entry, tmp, 0o644, (n) => (size += n)));
          if (size !== entry.header.size) throw new ArchiveError(`${debPath}: ${member} is truncated (${size} of ${entry.header.size ?? '?'} bytes)`);
          return { size };
        }
        throw new ArchiveError(`${debPath}: no ${member} in ${dataName}`);
      },
      { whole: false, signal: options.signal, ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }) },
    ),
    options.signal,
  );
}
