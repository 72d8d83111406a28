/**
 * A writer for cpio "newc" archives, the format the kernel unpacks an
 * initramfs from (Documentation/driver-api/early-userspace/buffer-format.rst).
 * Written here rather than taken from npm, for the reason src/archive/cpio.ts
 * gives for its reader: what npm offers is unmaintained stream wrappers, and
 * newc is a 110-byte ASCII header, a name and 4-byte padding. Uncompressed:
 * the kernel reads it as is, and the archive is a few MB.
 */

export type CpioMember =
  | { readonly kind: 'dir'; readonly name: string; readonly mode?: number }
  | { readonly kind: 'file'; readonly name: string; readonly data: Buffer; readonly mode?: number }
  | { readonly kind: 'char'; readonly name: string; readonly major: number; readonly minor: number; readonly mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const pad = (length: number): Buffer => Buffer.alloc((4 - (length % 4)) % 4);

function header(fields: { ino: number; mode: number; nlink: number; size: number; rdevMajor: number; rdevMinor: number; nameSize: number }): string {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  return ['070701', hex8(fields.ino), hex8(fields.mode), hex8(0), hex8(0), hex8(fields.nlink), hex8(0), hex8(fields.size),
    hex8(0), hex8(0), hex8(fields.rdevMajor), hex8(fields.rdevMinor), hex8(fields.nameSize), hex8(0)].join('');
}

function entry(ino: number, name: string, mode: number, data: Buffer, rdev: [number, number] = [0, 0]): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const head = Buffer.from(header({ ino, mode, nlink: mode & S_IFDIR ? 2 : 1, size: data.length, rdevMajor: rdev[0], rdevMinor: rdev[1], nameSize: nameBytes.length }), 'latin1');
  const headAndName = head.length + nameBytes.length;
  return [head, nameBytes, pad(headAndName), data, pad(data.length)];
}

/** The archive, members in the order given (parents before children), mtime 0 so equal input gives equal bytes. */
export function writeCpio(members: readonly CpioMember[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const member of members) {
    const name = member.name.replace(/^\/+/, '');
    if (name === '' || name.split('/').some((part) => part === '..' || part === '')) throw new Error(`bad cpio member name ${JSON.stringify(member.name)}`);
    if (member.kind === 'dir') parts.push(...entry(ino++, name, S_IFDIR | (member.mode ?? 0o755), Buffer.alloc(0)));
    else if (member.kind === 'file') parts.push(...entry(ino++, name, S_IFREG | (member.mode ?? 0o644), member.data));
    else parts.push(...entry(ino++, name, S_IFCHR | (member.mode ?? 0o600), Buffer.alloc(0), [member.major, member.minor]));
  }
  parts.push(...entry(0, 'TRAILER!!!', 0, Buffer.alloc(0)));
  return Buffer.concat(parts);
}
