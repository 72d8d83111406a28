import { ArchiveError } from '../errors.js';
import { parseElf64, type ElfSection } from '../btf/elf-section.js';

/**
 * What the CO-RE check needs of a BPF object file (ELF64, little-endian, as
 * `clang -target bpf` writes it): each section's instructions, the function
 * symbols (entry points), and the CO-RE relocation records of .BTF.ext in
 * the order libbpf numbers them ("relo #N" is the N-th record of a section).
 * Layouts: the System V gABI for ELF, the kernel's Documentation/bpf/btf.rst
 * for .BTF and .BTF.ext (struct btf_ext_header, struct bpf_core_relo).
 */

/** libbpf's enum bpf_core_relo_kind, by value. */
export const CORE_RELO_KINDS = [
  'byte_off', 'byte_sz', 'field_exists', 'signed', 'lshift_u64', 'rshift_u64',
  'local_type_id', 'target_type_id', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches',
] as const;
export type CoreReloKind = (typeof CORE_RELO_KINDS)[number] | `kind ${number}`;

/** Kinds whose answer is 0 or 1: a missing target is a legal 0, never a poisoned instruction. */
export const EXISTS_KINDS: ReadonlySet<string> = new Set(['field_exists', 'type_exists', 'enumval_exists', 'type_matches']);

export interface CoreRelocationRecord {
  /** Index of the instruction (8-byte slots) in its section. */
  readonly insn: number;
  readonly kind: CoreReloKind;
  /** The access string ("0:1:0") and the local type's id. */
  readonly access: string;
  readonly typeId: number;
}

export interface BpfSection {
  readonly name: string;
  readonly insns: Uint8Array;
  /** Instruction indexes where a function (program or subprogram) starts. */
  readonly entries: readonly number[];
  readonly relocations: readonly CoreRelocationRecord[];
}

const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;
const STT_FUNC = 2;
const BTF_MAGIC = 0xeb9f;

export function parseBpfObject(elf: Uint8Array, label: string): BpfSection[] {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const { sections } = parseElf64(elf, label);
  const bytes = (s: ElfSection): Uint8Array => (s.type === SHT_NOBITS ? new Uint8Array() : elf.subarray(s.offset, s.offset + s.size));
  const entries = new Map<number, number[]>();
  for (const symtab of sections.filter((s) => s.type === SHT_SYMTAB)) {
    for (let at = symtab.offset; at + 24 <= symtab.offset + symtab.size; at += 24) {
      if ((view.getUint8(at + 4) & 0xf) !== STT_FUNC) continue;
      const shndx = view.getUint16(at + 6, true);
      const list = entries.get(shndx) ?? [];
      list.push(Number(view.getBigUint64(at + 8, true)) / 8);
      entries.set(shndx, list);
    }
  }
  const btf = sections.find((s) => s.name === '.BTF');
  const ext = sections.find((s) => s.name === '.BTF.ext');
  const relocations = btf !== undefined && ext !== undefined ? readCoreRelocations(bytes(btf), bytes(ext), label) : new Map<string, CoreRelocationRecord[]>();
  const out: BpfSection[] = [];
  sections.forEach((s, index) => {
    const relos = relocations.get(s.name);
    if (!entries.has(index) && relos === undefined) return;
    out.push({ name: s.name, insns: bytes(s), entries: entries.get(index) ?? [0], relocations: relos ?? [] });
  });
  return out;
}

/** .BTF.ext's core_relo subsection, grouped by section name; the strings come from .BTF. */
function readCoreRelocations(btf: Uint8Array, ext: Uint8Array, label: string): Map<string, CoreRelocationRecord[]> {
  const bv = new DataView(btf.buffer, btf.byteOffset, btf.byteLength);
  const ev = new DataView(ext.buffer, ext.byteOffset, ext.byteLength);
  const out = new Map<string, CoreRelocationRecord[]>();
  if (btf.length < 24 || ext.length < 24 || bv.getUint16(0, true) !== BTF_MAGIC || ev.getUint16(0, true) !== BTF_MAGIC) {
    throw new ArchiveError(`${label}: .BTF or .BTF.ext has no BTF magic`);
  }
  const strStart = bv.getUint32(4, true) + bv.getUint32(16, true);
  const strEnd = strStart + bv.getUint32(20, true);
  const extHdr = ev.getUint32(4, true);
  if (extHdr < 32) return out;
  let at = extHdr + ev.getUint32(24, true);
  const end = at + ev.getUint32(28, true);
  if (end > ext.length) throw new ArchiveError(`${label}: .BTF.ext core_relo runs past the section`);
  if (end - at < 4) return out;
  const recSize = ev.getUint32(at, true);
  if (recSize < 16) throw new ArchiveError(`${label}: .BTF.ext core_relo record size ${recSize} < 16`);
  at += 4;
  while (at + 8 <= end) {
    const name = cString(btf, strStart + ev.getUint32(at, true), strEnd);
    const count = ev.getUint32(at + 4, true);
    at += 8;
    if (at + count * recSize > end) throw new ArchiveError(`${label}: .BTF.ext core_relo of ${name} runs past the section`);
    const records: CoreRelocationRecord[] = [];
    for (let i = 0; i < count; i += 1, at += recSize) {
      const kind = ev.getUint32(at + 12, true);
      records.push({
        insn: ev.getUint32(at, true) / 8,
        typeId: ev.getUint32(at + 4, true),
        access: cString(btf, strStart + ev.getUint32(at + 8, true), strEnd),
        kind: CORE_RELO_KINDS[kind] ?? `kind ${kind}`,
      });
    }
    out.set(name, [...(out.get(name) ?? []), ...records]);
  }
  return out;
}

function cString(data: Uint8Array, start: number, limit: number): string {
  if (start >= limit || start >= data.length) return '';
  const nul = data.indexOf(0, start);
  const stop = nul < 0 || nul > limit ? Math.min(limit, data.length) : nul;
  return Buffer.from(data.buffer, data.byteOffset + start, stop - start).toString('latin1');
}
