/**
 * Parsing and validation of a raw BTF blob (include/uapi/linux/btf.h).
 * Kernel images are searched for the 2-byte magic, which also occurs by
 * chance, so a candidate counts only when its header, its whole type
 * section and its string section are consistent.
 */

/** 0xeB9F stored little endian: bytes 9f eb. Big-endian BTF is not handled (no such target). */
export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;
/** struct btf_header up to str_len; newer kernels may append fields, so hdr_len may be larger. */
export const BTF_HEADER_MIN_LEN = 24;
/** Generous bound so random bytes with a huge hdr_len are rejected quickly. */
const BTF_HEADER_MAX_LEN = 256;
const BTF_TYPE_LEN = 12;
const KIND_MAX = 19; // BTF_KIND_ENUM64

export interface BtfHeader {
  readonly version: number;
  readonly flags: number;
  readonly hdrLen: number;
  readonly typeOff: number;
  readonly typeLen: number;
  readonly strOff: number;
  readonly strLen: number;
  /** hdr_len + max(type_off + type_len, str_off + str_len). */
  readonly totalLength: number;
}

export type BtfCheck =
  | { readonly kind: 'valid'; readonly header: BtfHeader; readonly typeCount: number }
  /** The header is sane but the sections run past the end of the data. */
  | { readonly kind: 'truncated'; readonly header: BtfHeader; readonly reason: string }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Reads the header at `at` without looking at the sections: the header, or why it is not one. */
export function readBtfHeader(data: Uint8Array, at: number): BtfHeader | string {
  if (at < 0 || at + BTF_HEADER_MIN_LEN > data.length) return 'header runs past the end of the data';
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint16(at, true) !== BTF_MAGIC) return 'bad magic';
  const version = view.getUint8(at + 2);
  if (version !== BTF_VERSION) return `unsupported version ${version}`;
  const hdrLen = view.getUint32(at + 4, true);
  const typeOff = view.getUint32(at + 8, true);
  const typeLen = view.getUint32(at + 12, true);
  const strOff = view.getUint32(at + 16, true);
  const strLen = view.getUint32(at + 20, true);
  if (hdrLen < BTF_HEADER_MIN_LEN || hdrLen > BTF_HEADER_MAX_LEN || hdrLen % 4 !== 0) {
    return `implausible hdr_len ${hdrLen}`;
  }
  if (typeOff % 4 !== 0 || typeLen % 4 !== 0) return 'type section is not 4-byte aligned';
  if (strLen === 0) return 'empty string section';
  const typeEnd = typeOff + typeLen;
  const strEnd = strOff + strLen;
  if (typeOff < strEnd && strOff < typeEnd) return 'type and string sections overlap';
  return {
    version,
    flags: view.getUint8(at + 3),
    hdrLen,
    typeOff,
    typeLen,
    strOff,
    strLen,
    totalLength: hdrLen + Math.max(typeEnd, strEnd),
  };
}

/** Validates the whole blob starting at `at`: header, every type record, the string section. */
export function checkBtf(data: Uint8Array, at = 0): BtfCheck {
  const header = readBtfHeader(data, at);
  if (typeof header === 'string') return { kind: 'invalid', reason: header };
  if (at + header.totalLength > data.length) {
    return {
      kind: 'truncated',
      header,
      reason: `BTF needs ${header.totalLength} bytes but only ${data.length - at} remain`,
    };
  }
  const strStart = at + header.hdrLen + header.strOff;
  if (data[strStart] !== 0) return { kind: 'invalid', reason: 'string section does not start with NUL' };
  if (data[strStart + header.strLen - 1] !== 0) return { kind: 'invalid', reason: 'string section does not end with NUL' };
  const types = countTypes(data, at + header.hdrLen + header.typeOff, header.typeLen, header.strLen);
  if (typeof types === 'string') return { kind: 'invalid', reason: types };
  return { kind: 'valid', header, typeCount: types };
}

/** Walks every btf_type record; they must tile the type section exactly. */
function countTypes(data: Uint8Array, start: number, length: number, strLen: number): number | string {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const end = start + length;
  let pos = start;
  let count = 0;
  while (pos < end) {
    if (pos + BTF_TYPE_LEN > end) return `type #${count + 1} runs past the type section`;
    const nameOff = view.getUint32(pos, true);
    const info = view.getUint32(pos + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if (kind === 0 || kind > KIND_MAX) return `type #${count + 1} has unknown kind ${kind}`;
    if (nameOff >= strLen) return `type #${count + 1} names a string outside the string section`;
    pos += BTF_TYPE_LEN + extraLength(kind, vlen);
    count += 1;
  }
  return pos === end ? count : 'type records do not end at the end of the type section';
}

/** Bytes that follow struct btf_type for each kind (Documentation/bpf/btf.rst, section 2.2). */
function extraLength(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // INT
    case 14: // VAR
    case 17: // DECL_TAG
      return 4;
    case 3: // ARRAY
      return 12;
    case 4: // STRUCT
    case 5: // UNION
    case 15: // DATASEC
    case 19: // ENUM64
      return vlen * 12;
    case 6: // ENUM
    case 13: // FUNC_PROTO
      return vlen * 8;
    default: // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
      return 0;
  }
}
