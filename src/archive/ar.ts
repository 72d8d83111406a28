import { open, type FileHandle } from 'node:fs/promises';
import { ArchiveError } from '../errors.js';

/**
 * A reader for the common ar format, enough for .deb files (which use only
 * short names). Anything unusual (symbol tables, GNU/BSD long names, bad
 * sizes) is refused rather than guessed at, since package contents are
 * untrusted until their checksum and layout are checked.
 */

export const AR_MAGIC = '!<arch>\n';
const HEADER_SIZE = 60;
const MAX_MEMBERS = 64;

export interface ArMember {
  readonly name: string;
  /** Byte offset of the member's data in the archive file. */
  readonly offset: number;
  readonly size: number;
}

function field(header: Buffer, start: number, length: number): string {
  return header.toString('latin1', start, start + length).trimEnd();
}

/** Parses one 60-byte header: name[16] mtime[12] uid[6] gid[6] mode[8] size[10] "`\n". */
export function parseArHeader(header: Buffer, where: string): { name: string; size: number } {
  if (header.length !== HEADER_SIZE || header.toString('latin1', 58, 60) !== '`\n') {
    throw new ArchiveError(`${where}: malformed ar member header`);
  }
  let name = field(header, 0, 16);
  // GNU ar ends short names with "/"; names starting with "/" or "#1/" are tables or long names.
  if (name.startsWith('/') || name.startsWith('#1/')) {
    throw new ArchiveError(`${where}: unsupported ar member "${name}" (symbol table or long name)`);
  }
  if (name.endsWith('/')) name = name.slice(0, -1);
  if (name === '' || !/^[A-Za-z0-9._+-]+$/.test(name)) {
    throw new ArchiveError(`${where}: unexpected ar member name "${name}"`);
  }
  const sizeText = field(header, 48, 10);
  if (!/^[0-9]+$/.test(sizeText)) throw new ArchiveError(`${where}: bad size "${sizeText}" for ar member ${name}`);
  return { name, size: Number(sizeText) };
}

async function readExactly(file: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** Lists the members of an ar archive without reading their contents. */
export async function listArMembers(path: string): Promise<ArMember[]> {
  const file = await open(path, 'r');
  try {
    const total = (await file.stat()).size;
    const magic = await readExactly(file, AR_MAGIC.length, 0);
    if (magic.toString('latin1') !== AR_MAGIC) throw new ArchiveError(`${path}: not an ar archive`);
    const members: ArMember[] = [];
    let position = AR_MAGIC.length;
    while (position < total) {
      if (members.length === MAX_MEMBERS) throw new ArchiveError(`${path}: more than ${MAX_MEMBERS} ar members`);
      const header = await readExactly(file, HEADER_SIZE, position);
      const { name, size } = parseArHeader(header, path);
      const offset = position + HEADER_SIZE;
      if (offset + size > total) throw new ArchiveError(`${path}: ar member ${name} runs past the end of the file`);
      if (members.some((m) => m.name === name)) throw new ArchiveError(`${path}: duplicate ar member ${name}`);
      members.push({ name, offset, size });
      // Member data is padded to an even length with "\n".
      position = offset + size + (size % 2);
    }
    return members;
  } finally {
    await file.close();
  }
}

export async function readArMember(path: string, member: ArMember): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const data = await readExactly(file, member.size, member.offset);
    if (data.length !== member.size) throw new ArchiveError(`${path}: ar member ${member.name} is truncated`);
    return data;
  } finally {
    await file.close();
  }
}
