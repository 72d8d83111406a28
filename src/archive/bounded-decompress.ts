import { spawn } from 'node:child_process';
import { ArchiveError } from '../errors.js';

/**
 * Packages come from mirrors: a few hundred kilobytes of xz can expand to
 * gigabytes. Every decompression of a package part stops at a declared limit,
 * counting bytes as they stream out of the decompressor, so memory stays
 * bounded by the limit and the error names the package and the limit.
 */
export const DEFAULT_MAX_UNPACKED_BYTES = 1024 * 1024 * 1024;

/** KBUILD_MAX_UNPACKED_BYTES, else 1 GiB: a Debian kernel image's data.tar is ~100-500 MB. */
export function maxUnpackedBytes(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env['KBUILD_MAX_UNPACKED_BYTES']);
  return Number.isSafeInteger(value) && value > 0 ? value : DEFAULT_MAX_UNPACKED_BYTES;
}

const TOOLS: Readonly<Record<string, readonly [string, ...string[]]>> = {
  xz: ['xz', '--decompress', '--stdout', '--format=auto', '--threads=1'],
  lzma: ['xz', '--decompress', '--stdout', '--format=auto', '--threads=1'],
  zst: ['zstd', '--decompress', '--stdout', '--quiet'],
  zstd: ['zstd', '--decompress', '--stdout', '--quiet'],
  gz: ['gzip', '--decompress', '--stdout'],
  gzip: ['gzip', '--decompress', '--stdout'],
};

export function isKnownCompression(format: string): boolean {
  return TOOLS[format] !== undefined;
}

/** The command that decompresses `format` (xz, zst, gz, ...) from stdin to stdout. */
export function decompressorFor(format: string): readonly [string, ...string[]] {
  const command = TOOLS[format];
  if (command === undefined) throw new ArchiveError(`unknown compression ${JSON.stringify(format)}`);
  return command;
}

export function tooBigError(what: string, maxBytes: number): ArchiveError {
  return new ArchiveError(`${what} expands to more than ${maxBytes} bytes (the limit for unpacked package parts; KBUILD_MAX_UNPACKED_BYTES raises it): refusing it`);
}

/** `what` names the package and member ("x.deb: data.tar.xz") in every error. */
export async function decompressBounded(raw: Buffer, format: string, what: string, maxBytes = maxUnpackedBytes()): Promise<Buffer> {
  const command = TOOLS[format];
  if (command === undefined) throw new ArchiveError(`${what}: unknown compression ${JSON.stringify(format)}`);
  const [tool, ...args] = command;
  const child = spawn(tool, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString('utf8');
  });
  child.stdout.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxBytes) {
      tooBig = true;
      child.kill('SIGKILL');
      child.stdout.destroy();
      return;
    }
    chunks.push(chunk);
  });
  // EPIPE when the tool was killed for expanding too far, or failed early: its exit says which.
  child.stdin.on('error', () => undefined);
  child.stdin.end(raw);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) => reject(new ArchiveError(`${tool} is needed to read ${what}: ${err.message}`, { cause: err })));
    child.on('close', (exit) => resolve(exit));
  });
  if (tooBig) throw tooBigError(what, maxBytes);
  if (code !== 0) throw new ArchiveError(`${what}: cannot decompress (${tool} exit ${code ?? 'signal'}: ${stderr.trim()})`);
  return Buffer.concat(chunks, size);
}
