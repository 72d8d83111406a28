/**
 * Just enough ELF64 little-endian parsing to find one section of a vmlinux
 * by name (System V gABI, "Sections"). Every offset is bounds-checked since
 * the bytes come from a downloaded, decompressed image.
 */
import { ArchiveError } from '../errors.js';

export const ELF_MACHINE_X86_64 = 62;

export interface ElfSection {
  readonly name: string;
  /** sh_type (SHT_SYMTAB 2, SHT_NOBITS 8, ...), sh_link and sh_entsize, for readers of symbol and relocation tables. */
  readonly type: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly entsize: number;
}

export interface ElfFile {
  readonly machine: number;
  readonly sections: readonly ElfSection[];
}

const SHT_NOBITS = 8;

export function parseElf64(elf: Uint8Array, label: string): ElfFile {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (elf.length < 64 || view.getUint32(0, false) !== 0x7f454c46) {
    throw new ArchiveError(`${label}: not an ELF file`);
  }
  if (elf[4] !== 2 || elf[5] !== 1) {
    throw new ArchiveError(`${label}: not a little-endian ELF64 file`);
  }
  const machine = view.getUint16(18, true);
  const shoff = Number(view.getBigUint64(40, true));
  const shentsize = view.getUint16(58, true);
  const shnum = view.getUint16(60, true);
  const shstrndx = view.getUint16(62, true);
  if (shnum === 0) return { machine, sections: [] };
  if (shentsize < 64 || shoff + shnum * shentsize > elf.length) {
    throw new ArchiveError(`${label}: truncated ELF: section headers run past the end of the file`);
  }
  const raw = Array.from({ length: shnum }, (_, i) => {
    const at = shoff + i * shentsize;
    return {
      nameOff: view.getUint32(at, true),
      type: view.getUint32(at + 4, true),
      offset: Number(view.getBigUint64(at + 24, true)),
      size: Number(view.getBigUint64(at + 32, true)),
      link: view.getUint32(at + 40, true),
      entsize: Number(view.getBigUint64(at + 56, true)),
    };
  });
  const names = raw[shstrndx];
  if (names === undefined || names.offset + names.size > elf.length) {
    throw new ArchiveError(`${label}: truncated ELF: section name table runs past the end of the file`);
  }
  const sections = raw.map((section) => {
    if (section.type !== SHT_NOBITS && section.offset + section.size > elf.length) {
      throw new ArchiveError(`${label}: truncated ELF: a section runs past the end of the file`);
    }
    const { nameOff, ...rest } = section;
    return { ...rest, name: cString(elf, names.offset + nameOff, names.offset + names.size) };
  });
  return { machine, sections };
}

function cString(data: Uint8Array, start: number, limit: number): string {
  if (start >= limit) return '';
  const nul = data.indexOf(0, start);
  return Buffer.from(data.buffer, data.byteOffset + start, (nul < 0 || nul > limit ? limit : nul) - start).toString('latin1');
}
