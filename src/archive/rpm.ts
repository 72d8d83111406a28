import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ArchiveError } from '../errors.js';
import { decompressBounded } from './bounded-decompress.js';
import { extractCpio } from './cpio.js';
import type { ExtractStats } from './safe-tree.js';
import { timePhase } from '../metrics/events.js';

/**
 * Reads RPM v3/v4 packages (https://rpm-software-management.github.io/rpm/manual/format_v4.html):
 * a 96-byte lead, the signature header (padded to 8 bytes), the main header,
 * then the compressed cpio payload. Only what extraction needs is read: the
 * payload format and compressor, and the payload digest, checked when present.
 */

const LEAD = 96;
const LEAD_MAGIC = 0xedabeedb;
const HEADER_MAGIC = 0x8eade801;
const MAX_ENTRIES = 100_000;
const MAX_STORE = 64 * 1024 * 1024;

export const TAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  ARCH: 1022,
  PAYLOADFORMAT: 1124,
  PAYLOADCOMPRESSOR: 1125,
  PAYLOADDIGEST: 5092,
  PAYLOADDIGESTALGO: 5093,
} as const;

const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_STRING_ARRAY = 8;
const TYPE_I18NSTRING = 9;
const PGPHASHALGO_SHA256 = 8;

export interface RpmHeader {
  /** Tag → strings (STRING, STRING_ARRAY, I18NSTRING) or numbers (INT32). */
  readonly tags: ReadonlyMap<number, readonly string[] | readonly number[]>;
  /** Offset just past this header (before padding). */
  readonly end: number;
}

function parseHeader(rpm: Buffer, at: number, where: string): RpmHeader {
  if (at + 16 > rpm.length || rpm.readUInt32BE(at) !== HEADER_MAGIC) throw new ArchiveError(`${where}: no RPM header at byte ${at}`);
  const count = rpm.readUInt32BE(at + 8);
  const storeSize = rpm.readUInt32BE(at + 12);
  if (count > MAX_ENTRIES || storeSize > MAX_STORE) throw new ArchiveError(`${where}: RPM header at byte ${at} is implausibly large`);
  const store = at + 16 + count * 16;
  const end = store + storeSize;
  if (end > rpm.length) throw new ArchiveError(`${where}: RPM header at byte ${at} runs past the end of the file`);
  const tags = new Map<number, string[] | number[]>();
  for (let i = 0; i < count; i++) {
    const entry = at + 16 + i * 16;
    const [tag, type, offset, n] = [0, 4, 8, 12].map((o) => rpm.readUInt32BE(entry + o)) as [number, number, number, number];
    if (offset >= storeSize && n > 0) throw new ArchiveError(`${where}: RPM tag ${tag} points outside its header`);
    if (type === TYPE_INT32) {
      if (offset + n * 4 > storeSize) throw new ArchiveError(`${where}: RPM tag ${tag} runs past its header`);
      tags.set(tag, Array.from({ length: n }, (_, k) => rpm.readUInt32BE(store + offset + k * 4)));
    } else if (type === TYPE_STRING || type === TYPE_STRING_ARRAY || type === TYPE_I18NSTRING) {
      const strings: string[] = [];
      let p = store + offset;
      for (let k = 0; k < (type === TYPE_STRING ? 1 : n); k++) {
        const nul = rpm.indexOf(0, p);
        if (nul < 0 || nul >= end) throw new ArchiveError(`${where}: RPM tag ${tag} string runs past its header`);
        strings.push(rpm.toString('utf8', p, nul));
        p = nul + 1;
      }
      tags.set(tag, strings);
    }
  }
  return { tags, end };
}

export interface RpmPackage {
  readonly header: RpmHeader;
  /** The compressed payload. */
  readonly payload: Buffer;
}

export function parseRpm(rpm: Buffer, where: string): RpmPackage {
  if (rpm.length < LEAD || rpm.readUInt32BE(0) !== LEAD_MAGIC) throw new ArchiveError(`${where}: not an RPM package (no lead magic)`);
  const signature = parseHeader(rpm, LEAD, `${where} (signature)`);
  const headerAt = (signature.end + 7) & ~7;
  const header = parseHeader(rpm, headerAt, where);
  return { header, payload: rpm.subarray(header.end) };
}

export function stringTag(header: RpmHeader, tag: number): string | undefined {
  const value = header.tags.get(tag)?.[0];
  return typeof value === 'string' ? value : undefined;
}

/** The payload's cpio archive, after checking its digest when the header carries one. */
export async function rpmCpio(pkg: RpmPackage, where: string): Promise<Buffer> {
  const { header, payload } = pkg;
  const format = stringTag(header, TAG.PAYLOADFORMAT) ?? 'cpio';
  if (format !== 'cpio') throw new ArchiveError(`${where}: payload format ${JSON.stringify(format)} is not cpio`);
  const digest = header.tags.get(TAG.PAYLOADDIGEST)?.[0];
  const algo = header.tags.get(TAG.PAYLOADDIGESTALGO)?.[0];
  if (typeof digest === 'string' && algo === PGPHASHALGO_SHA256) {
    const actual = createHash('sha256').update(payload).digest('hex');
    if (actual !== digest.toLowerCase()) throw new ArchiveError(`${where}: payload digest mismatch, header says ${digest}, payload is ${actual}`);
  }
  const compressor = stringTag(header, TAG.PAYLOADCOMPRESSOR) ?? 'gzip';
  if (!['xz', 'lzma', 'zstd', 'gzip'].includes(compressor)) throw new ArchiveError(`${where}: payload compressor ${JSON.stringify(compressor)} is not one of xz, zstd, gzip, lzma`);
  // xz itself (liblzma, what rpm uses) also decodes the SHA-256 integrity check of rpm's xz payloads.
  return decompressBounded(payload, compressor, `${where}: its ${compressor} payload`);
}

/** Extracts `prefix` (e.g. "usr/src/kernels/") of an .rpm file's payload into `dest`. */
export async function extractRpmPrefix(rpmPath: string, prefix: string, dest: string): Promise<ExtractStats> {
  return timePhase('extract', async () => {
    const pkg = parseRpm(await readFile(rpmPath), rpmPath);
    const cpio = await rpmCpio(pkg, rpmPath);
    try {
      return await extractCpio(cpio, prefix, dest);
    } catch (err) {
      if (err instanceof ArchiveError) throw new ArchiveError(`${rpmPath}: ${err.message}`, { cause: err });
      throw err;
    }
  });
}
