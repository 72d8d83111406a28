import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { ArchiveError } from '../errors.js';
import type { ExtractStats } from './safe-tree.js';
import { extractTarEntries, type TarEntry } from './tar-tree.js';

/**
 * Unpacks an upstream source tarball (Debian's .orig.tar.{gz,xz,bz2,zst}).
 * Such a tarball is far bigger than any header package and expands by 5-10x,
 * so it is decompressed as a stream with its output counted: a decompression
 * bomb stops at the limit instead of filling memory or disk. @napi-rs/lzma
 * only decompresses whole buffers, hence the xz/bzip2/zstd tools (as
 * deb-stream.ts uses them); gzip stays in-process with node:zlib.
 */

export interface SourceTarballLimits {
  /** Most decompressed tar bytes read (headers and padding included). */
  readonly maxBytes: number;
  readonly maxEntries: number;
}

export const DEFAULT_SOURCE_LIMITS: SourceTarballLimits = { maxBytes: 512 * 1024 * 1024, maxEntries: 200_000 };

const TOOLS = new Map<string, readonly [string, ...string[]]>([
  ['xz', ['xz', '--decompress', '--stdout', '--threads=1']],
  ['bz2', ['bzip2', '--decompress', '--stdout']],
  ['zst', ['zstd', '--decompress', '--stdout', '--quiet']],
]);

export function tarballCompression(name: string): string | undefined {
  return /\.tar\.(gz|xz|bz2|zst)$/.exec(name)?.[1];
}

interface Decompressed {
  readonly stream: Readable;
  /** Resolves with a problem of the decompressor (exit status, stderr), or undefined. */
  readonly done: Promise<string | undefined>;
  readonly kill: () => void;
}

function decompress(path: string, compression: string): Decompressed {
  if (compression === 'gz') {
    const gunzip = createGunzip();
    const input = createReadStream(path);
    input.on('error', (err) => gunzip.destroy(err));
    input.pipe(gunzip);
    return { stream: gunzip, done: Promise.resolve(undefined), kill: () => input.destroy() };
  }
  const command = TOOLS.get(compression);
  if (command === undefined) throw new ArchiveError(`${path}: unsupported compression ${compression}`);
  const [tool, ...args] = command;
  const child = spawn(tool, [...args, '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString('utf8');
  });
  const done = new Promise<string | undefined>((resolve) => {
    child.on('error', (err) => resolve(`${tool} could not run: ${err.message}`));
    child.on('close', (code, signal) => resolve(code === 0 ? undefined : `${tool} exited ${code ?? signal}: ${stderr.trim()}`));
  });
  return { stream: child.stdout, done, kill: () => void child.kill('SIGKILL') };
}

/** Counts bytes passing through and fails the stream once they exceed `max`. */
function byteCap(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > max) callback(new ArchiveError(`decompresses to more than ${max} bytes`));
      else callback(null, chunk);
    },
  });
}

/** Parsing starts when iterated, after the consumer is ready: entries emitted earlier would be lost. */
async function* tarEntries(input: Readable): AsyncGenerator<TarEntry> {
  const extract = tarStream.extract();
  input.on('error', (err) => extract.destroy(err));
  input.pipe(extract);
  yield* extract;
}

/** Extracts the whole tarball at `path` (named `name`, which tells its compression) into `dest`, within `limits`. */
export async function extractSourceTarball(
  path: string,
  name: string,
  dest: string,
  limits: SourceTarballLimits = DEFAULT_SOURCE_LIMITS,
  signal?: AbortSignal,
): Promise<ExtractStats> {
  const compression = tarballCompression(name);
  if (compression === undefined) throw new ArchiveError(`${name}: not a .tar.gz, .tar.xz, .tar.bz2 or .tar.zst`);
  const source = decompress(path, compression);
  // Piped at once: node resumes (and so drains into nothing) the unread stdout of a child that exits.
  const capped = source.stream.pipe(byteCap(limits.maxBytes));
  source.stream.on('error', (err) => capped.destroy(err));
  const onAbort = (): void => source.kill();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const stats = await extractTarEntries(tarEntries(capped), '', dest, {
      maxEntries: limits.maxEntries,
      maxFileBytes: limits.maxBytes,
    });
    const problem = await source.done;
    if (problem !== undefined) throw new ArchiveError(problem);
    return stats;
  } catch (err) {
    source.kill();
    signal?.throwIfAborted();
    if (err instanceof ArchiveError) throw new ArchiveError(`${name}: ${err.message}`, { cause: err });
    throw new ArchiveError(`${name}: not a readable ${compression} tarball: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
