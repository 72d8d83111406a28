import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import tarStream, { type Extract } from 'tar-stream';
import { ArchiveError } from '../errors.js';
import { listArMembers, readArMember, type ArMember } from './ar.js';
import { decompressorFor, maxUnpackedBytes, tooBigError } from './bounded-decompress.js';
import type { TarEntry } from './tar-tree.js';

/**
 * Reads a .deb's data.tar as a stream: the member is read from the file,
 * decompressed by `xz`/`zstd`/`gzip` in a child process and parsed entry by
 * entry, so memory stays bounded (the parser's and the pipes' buffers) however
 * big the package is: a kernel image's data.tar is ~400 MB, a -dbg package's
 * ~1.7 GB. Bytes are counted as they leave the decompressor and stop at
 * maxUnpackedBytes(). A reader that stops early (one file wanted, near the
 * start) ends the decompression there.
 */

export interface DataTarOptions {
  /** The caller reads every entry: the decompressor must then also end cleanly. */
  readonly whole: boolean;
  readonly maxBytes?: number;
  readonly signal?: AbortSignal | undefined;
}

/** The data.tar member of a .deb, after checking debian-binary says format 2.x. */
export async function dataMember(debPath: string): Promise<ArMember> {
  const members = await listArMembers(debPath);
  const first = members[0];
  if (first?.name !== 'debian-binary') throw new ArchiveError(`${debPath}: not a .deb (no debian-binary first)`);
  const format = (await readArMember(debPath, first)).toString('latin1');
  if (!/^2\.[0-9]+\n$/.test(format)) throw new ArchiveError(`${debPath}: unsupported .deb format ${JSON.stringify(format)}`);
  const data = members.find((m) => m.name.startsWith('data.tar'));
  if (data === undefined || (data.name !== 'data.tar' && !['.xz', '.zst', '.gz'].includes(data.name.slice('data.tar'.length)))) {
    throw new ArchiveError(`${debPath}: no data.tar, data.tar.xz, data.tar.zst or data.tar.gz member`);
  }
  return data;
}

type Decompressor = ChildProcessByStdio<Writable, Readable, Readable>;

function startDecompressor(debPath: string, data: ArMember, raw: Readable): { child: Decompressor; exited: Promise<number | null>; stderr: () => string; spawned: Promise<void> } {
  const [tool, ...args] = decompressorFor(data.name.slice('data.tar.'.length));
  const child = spawn(tool, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const spawned = new Promise<void>((resolve, reject) => {
    child.on('spawn', resolve);
    child.on('error', (err) => reject(new ArchiveError(`${tool} is needed to read ${debPath}: ${err.message}`, { cause: err })));
  });
  // EPIPE once the reader stops early is expected: the rest of the archive is not wanted.
  child.stdin.on('error', () => undefined);
  pipeline(raw, child.stdin).catch(() => undefined);
  return { child, exited, stderr: () => stderr.trim(), spawned };
}

/** Resolves when the parser wants more input, or is gone. */
function drained(extract: Extract): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      extract.off('drain', done);
      extract.off('close', done);
      resolve();
    };
    extract.on('drain', done);
    extract.on('close', done);
  });
}

/** Feeds `output` into the tar parser, counting bytes; rejects (and destroys the parser) past `maxBytes`. */
async function pump(output: Readable, extract: Extract, maxBytes: number, what: string): Promise<number> {
  let size = 0;
  for await (const chunk of output) {
    if (extract.destroyed) return size;
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooBigError(what, maxBytes);
    if (!extract.write(chunk)) await drained(extract);
  }
  extract.end(undefined);
  return size;
}

/** Runs `consume` over the entries of a .deb's data.tar, streamed. */
export async function withDataTar<T>(debPath: string, consume: (entries: AsyncIterable<TarEntry>, member: string) => Promise<T>, options: DataTarOptions): Promise<T> {
  const data = await dataMember(debPath);
  const what = `${debPath}: ${data.name}`;
  const maxBytes = options.maxBytes ?? maxUnpackedBytes();
  if (data.name === 'data.tar' && data.size > maxBytes) throw tooBigError(what, maxBytes);
  const raw = createReadStream(debPath, { start: data.offset, end: data.offset + data.size - 1 });
  const decompressor = data.name === 'data.tar' ? undefined : startDecompressor(debPath, data, raw);
  const onAbort = (): void => {
    decompressor?.child.kill('SIGKILL');
    raw.destroy();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const extract = tarStream.extract();
  // tar-stream listens for entries only once iterated, and an entry nobody hears stalls the parser
  // for ever: listen before the first byte goes in, whatever `consume` awaits before its loop.
  const iterator = extract[Symbol.asyncIterator]();
  const entries: AsyncIterable<TarEntry> = { [Symbol.asyncIterator]: () => iterator };
  let pumpError: unknown;
  const pumped = (async () => {
    await decompressor?.spawned;
    return pump(decompressor?.child.stdout ?? raw, extract, maxBytes, what);
  })().catch((err: unknown) => {
    pumpError = err;
    extract.destroy(err as Error);
  });
  try {
    const result = await consume(entries, data.name);
    if (!options.whole) return result;
    await pumped;
    if (pumpError !== undefined) throw pumpError;
    const code = await decompressor?.exited;
    if (decompressor !== undefined && code !== 0) {
      throw new ArchiveError(`${what}: cannot decompress (exit ${code ?? 'signal'}: ${decompressor.stderr()})`);
    }
    return result;
  } catch (err) {
    if (pumpError !== undefined) throw pumpError;
    const code = decompressor?.child.exitCode;
    if (decompressor !== undefined && typeof code === 'number' && code !== 0) {
      throw new ArchiveError(`${what}: cannot decompress (exit ${code}: ${decompressor.stderr()})`, { cause: err });
    }
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (!extract.destroyed) extract.destroy();
    raw.destroy();
    if (decompressor !== undefined) {
      decompressor.child.stdout.destroy();
      if (decompressor.child.exitCode === null) decompressor.child.kill('SIGKILL');
      await decompressor.exited;
    }
    await pumped;
  }
}
