/**
 * Takes the BTF of a kernel out of its boot image, so CO-RE objects for an
 * arch can be built against the vmlinux.h of a real kernel of that arch and
 * per-kernel minimized BTF can be cut without the 280 MB debug package.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { ArchiveError, errorMessage } from '../errors.js';
import { ExecError, run } from '../exec/exec.js';
import type { Arch } from '../kernel/identity.js';
import { BTF_MAGIC, BTF_VERSION, checkBtf } from './btf-header.js';
import { ELF_MACHINE_X86_64, parseElf64 } from './elf-section.js';
import { decodeLz4Legacy } from './lz4-legacy.js';

/** Message fragments, stable so callers and tests can tell the failures apart. */
export const NOT_BZIMAGE = 'not an x86 bzImage';
export const NOT_ARM64_IMAGE = 'not an arm64 kernel Image';
export const UNKNOWN_COMPRESSION = 'unknown compression';
export const NO_BTF = 'no BTF in kernel image';
export const TRUNCATED = 'truncated';

/** Refuse size claims above this: no kernel is that big, and hostile input must not drive allocation. */
const MAX_KERNEL_BYTES = 1 << 30;
const gunzipAsync = promisify(gunzip);
const NO_BTF_HINT = 'the kernel was built without CONFIG_DEBUG_INFO_BTF';

/** Returns the raw BTF blob (magic 9f eb, version 1) of a bzImage (x86_64) or Image (arm64). */
export async function extractBtfFromImage(imagePath: string, arch: Arch): Promise<Buffer> {
  const image = await readFile(imagePath);
  return arch === 'x86_64' ? btfFromBzImage(image, imagePath) : btfFromArm64Image(image, imagePath);
}

/**
 * bzImage layout: Documentation/arch/x86/boot.rst. The payload is the
 * compressed vmlinux ELF followed by its decompressed size (4 bytes, LE),
 * which arch/x86/boot/compressed/Makefile appends for every compressor.
 */
async function btfFromBzImage(image: Buffer, label: string): Promise<Buffer> {
  if (image.length < 0x250) throw new ArchiveError(`${label}: ${TRUNCATED} image: ${image.length} bytes cannot hold an x86 boot header`);
  if (image.toString('latin1', 0x202, 0x206) !== 'HdrS') {
    throw new ArchiveError(`${label}: ${NOT_BZIMAGE} (no "HdrS" boot signature at 0x202)`);
  }
  const protocol = image.readUInt16LE(0x206);
  if (protocol < 0x208) throw new ArchiveError(`${label}: ${NOT_BZIMAGE} with a payload: boot protocol ${protocol.toString(16)} predates 2.08`);
  const setupSects = image[0x1f1] || 4; // 0 means 4, for compatibility with ancient loaders
  const start = (setupSects + 1) * 512 + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  if (length < 8) throw new ArchiveError(`${label}: ${NOT_BZIMAGE}: payload of ${length} bytes`);
  if (start + length > image.length) {
    throw new ArchiveError(`${label}: ${TRUNCATED} image: payload ends at ${start + length}, file has ${image.length} bytes`);
  }
  const expected = image.readUInt32LE(start + length - 4);
  if (expected > MAX_KERNEL_BYTES) throw new ArchiveError(`${label}: corrupt payload size trailer ${expected}`);
  const vmlinux = await decompressPayload(image.subarray(start, start + length - 4), expected, label);
  if (vmlinux.length !== expected) {
    throw new ArchiveError(`${label}: ${TRUNCATED} or corrupt payload: decompressed to ${vmlinux.length} bytes, the trailer promises ${expected}`);
  }
  const elf = parseElf64(vmlinux, label);
  if (elf.machine !== ELF_MACHINE_X86_64) throw new ArchiveError(`${label}: payload is a vmlinux for ELF machine ${elf.machine}, not x86_64`);
  const section = elf.sections.find((s) => s.name === '.BTF');
  if (section === undefined) throw new ArchiveError(`${label}: ${NO_BTF}: vmlinux has no .BTF section; ${NO_BTF_HINT}`);
  const blob = vmlinux.subarray(section.offset, section.offset + section.size);
  const check = checkBtf(blob);
  if (check.kind === 'truncated') throw new ArchiveError(`${label}: ${TRUNCATED} .BTF section: ${check.reason}`);
  if (check.kind === 'invalid') throw new ArchiveError(`${label}: invalid .BTF section: ${check.reason}`);
  // Copy so the caller does not keep the whole decompressed vmlinux alive.
  return Buffer.from(blob.subarray(0, check.header.totalLength));
}

const COMPRESSOR_NAMES: readonly [string, string][] = [
  ['425a68', 'bzip2'],
  ['5d0000', 'lzma'],
  ['894c5a4f', 'lzo'],
];

async function decompressPayload(payload: Buffer, expected: number, label: string): Promise<Buffer> {
  const failed = (format: string, err: unknown): ArchiveError => {
    const why = err instanceof ExecError ? err.stderr.trim() : errorMessage(err);
    return new ArchiveError(`${label}: ${TRUNCATED} or corrupt ${format} payload: ${why}`, { cause: err });
  };
  const magic = payload.subarray(0, 6).toString('hex');
  if (magic.startsWith('02214c18')) return decodeLz4Legacy(payload, expected);
  if (magic.startsWith('1f8b')) {
    return gunzipAsync(payload, { maxOutputLength: expected + 1 }).catch((err: unknown) => Promise.reject(failed('gzip', err)));
  }
  if (magic === 'fd377a585a00') {
    return xzDecompress(payload).catch((err: unknown) => Promise.reject(failed('xz', err)));
  }
  if (magic.startsWith('28b52ffd')) {
    try {
      const out = zstdDecompress(payload);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    } catch (err) {
      throw failed('zstd', err);
    }
  }
  const known = COMPRESSOR_NAMES.find(([prefix]) => magic.startsWith(prefix));
  const what = known === undefined ? `magic ${magic.slice(0, 8)}` : `${known[1]}, not supported`;
  throw new ArchiveError(`${label}: ${UNKNOWN_COMPRESSION} of the bzImage payload (${what})`, {
    suggestions: ['Supported payloads: LZ4 legacy, gzip, xz, zstd'],
  });
}

/**
 * The kernel's xz payloads use the x86 BCJ filter, which @napi-rs/lzma
 * (lzma-rs) rejects with "Unknown filter id 4", so the xz tool decodes them.
 */
async function xzDecompress(payload: Buffer): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'kbuild-xz-'));
  try {
    const file = join(dir, 'payload.xz');
    await writeFile(file, payload);
    await run('xz', ['--decompress', '--quiet', '--threads=1', file], { timeoutMs: 120_000 });
    return await readFile(join(dir, 'payload'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * arm64 Image layout: Documentation/arch/arm64/booting.rst. The BTF blob sits
 * in .rodata of the raw image; its magic also occurs by chance, so every
 * candidate is validated as a whole blob.
 */
async function btfFromArm64Image(file: Buffer, label: string): Promise<Buffer> {
  let image = file;
  // Some distributions ship vmlinuz as a gzip of Image; Debian bookworm ships it raw.
  if (file[0] === 0x1f && file[1] === 0x8b) {
    image = await gunzipAsync(file, { maxOutputLength: MAX_KERNEL_BYTES }).catch((err: unknown) =>
      Promise.reject(new ArchiveError(`${label}: ${TRUNCATED} or corrupt gzip image: ${errorMessage(err)}`, { cause: err })),
    );
  }
  if (image.length >= 16 && image.toString('latin1', 4, 8) === 'zimg') {
    const method = image.toString('latin1', 24, 32).replace(/\0.*$/s, '');
    throw new ArchiveError(`${label}: ${UNKNOWN_COMPRESSION}: EFI zboot image (${method}) is not supported`);
  }
  if (image.length < 64) throw new ArchiveError(`${label}: ${TRUNCATED} image: ${image.length} bytes cannot hold an arm64 Image header`);
  if (image.readUInt32LE(0x38) !== 0x644d5241) throw new ArchiveError(`${label}: ${NOT_ARM64_IMAGE} (no "ARM\\x64" magic at 0x38)`);

  const needle = Buffer.from([BTF_MAGIC & 0xff, BTF_MAGIC >> 8, BTF_VERSION]);
  let best: { at: number; length: number } | undefined;
  let truncatedReason: string | undefined;
  for (let at = image.indexOf(needle); at >= 0; at = image.indexOf(needle, at + 1)) {
    const check = checkBtf(image, at);
    if (check.kind === 'truncated') truncatedReason = check.reason;
    if (check.kind === 'valid' && (best === undefined || check.header.totalLength > best.length)) {
      best = { at, length: check.header.totalLength };
    }
  }
  if (best !== undefined) return Buffer.from(image.subarray(best.at, best.at + best.length));
  if (truncatedReason !== undefined) throw new ArchiveError(`${label}: ${TRUNCATED} image: ${truncatedReason}`);
  throw new ArchiveError(`${label}: ${NO_BTF}: no valid BTF blob found; ${NO_BTF_HINT}`);
}
