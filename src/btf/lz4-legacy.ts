/**
 * Decoder for the LZ4 legacy frame (`lz4 -l`), the format of Debian's x86_64
 * bzImage payloads. Written here because no npm package fits: `lz4` is a
 * native (nan) addon without legacy-frame support, `lz4js` reads only the
 * modern frame format, and `lz4-napi` decodes only its own size-prefixed
 * blocks. Formats: lz4/doc/lz4_Frame_format.md (Legacy frame) and
 * lz4/doc/lz4_Block_format.md.
 */
import { ArchiveError } from '../errors.js';

export const LZ4_LEGACY_MAGIC = 0x184c2102;
/** Every legacy block decompresses to at most 8 MiB. */
export const LZ4_LEGACY_BLOCK_MAX = 8 << 20;
const MIN_MATCH = 4;

function corrupt(what: string): ArchiveError {
  return new ArchiveError(`truncated or corrupt LZ4 data: ${what}`);
}

/**
 * Decodes one LZ4 block into dst[dstStart, dstEnd) and returns the decoded
 * length. Matches may only reach back inside this block: legacy blocks are
 * independent, so anything else is corruption.
 */
export function decodeLz4Block(src: Uint8Array, dst: Uint8Array, dstStart: number, dstEnd: number): number {
  const end = src.length;
  let s = 0;
  let d = dstStart;
  for (;;) {
    if (s >= end) throw corrupt('block ends before its last literals');
    const token = src[s++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b = 255;
      while (b === 255) {
        if (s >= end) throw corrupt('literal length runs past the block');
        b = src[s++]!;
        literals += b;
      }
    }
    if (s + literals > end) throw corrupt('literals run past the block');
    if (d + literals > dstEnd) throw corrupt('block decodes to more than its limit');
    // Short copies are faster by hand than through subarray + set.
    if (literals < 32) for (let i = 0; i < literals; i++) dst[d++] = src[s++]!;
    else {
      dst.set(src.subarray(s, s + literals), d);
      s += literals;
      d += literals;
    }
    if (s === end) return d - dstStart; // the last sequence carries literals only
    if (s + 2 > end) throw corrupt('match offset runs past the block');
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (offset === 0 || offset > d - dstStart) throw corrupt(`match offset ${offset} points outside the block`);
    let length = (token & 15) + MIN_MATCH;
    if ((token & 15) === 15) {
      let b = 255;
      while (b === 255) {
        if (s >= end) throw corrupt('match length runs past the block');
        b = src[s++]!;
        length += b;
      }
    }
    if (d + length > dstEnd) throw corrupt('block decodes to more than its limit');
    let m = d - offset;
    // Overlapping matches (offset < length) repeat bytes just written, so they must go byte by byte.
    if (offset >= length && length >= 32) {
      dst.copyWithin(d, m, m + length);
      d += length;
    } else for (let i = 0; i < length; i++) dst[d++] = dst[m++]!;
  }
}

/**
 * Decodes a whole legacy frame. `sizeHint` (the kernel's size trailer) only
 * sizes the output buffer up front. The stream ends at the end of the data;
 * a block size equal to the magic starts another frame (`cat a.lz4 b.lz4`),
 * and a last lone 4-byte word is the kernel's uncompressed-size trailer,
 * since a block cannot be empty.
 */
export function decodeLz4Legacy(data: Uint8Array, sizeHint?: number): Buffer {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 4 || view.getUint32(0, true) !== LZ4_LEGACY_MAGIC) {
    throw new ArchiveError('not an LZ4 legacy frame: missing magic 0x184C2102');
  }
  // One block of slack so an exact hint does not force a regrow before the last block.
  let out = Buffer.allocUnsafe((sizeHint ?? 0) + LZ4_LEGACY_BLOCK_MAX);
  let written = 0;
  let s = 4;
  while (s < data.length) {
    if (s + 4 > data.length) throw corrupt('block size runs past the data');
    const size = view.getUint32(s, true);
    s += 4;
    if (size === LZ4_LEGACY_MAGIC) continue;
    if (s === data.length) break; // size trailer
    if (size === 0 || size > data.length - s) throw corrupt(`block of ${size} bytes runs past the data`);
    if (out.length - written < LZ4_LEGACY_BLOCK_MAX) {
      const grown = Buffer.allocUnsafe(Math.max(out.length * 2, written + LZ4_LEGACY_BLOCK_MAX));
      out.copy(grown, 0, 0, written);
      out = grown;
    }
    written += decodeLz4Block(data.subarray(s, s + size), out, written, written + LZ4_LEGACY_BLOCK_MAX);
    s += size;
  }
  return out.subarray(0, written);
}
