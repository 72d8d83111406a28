import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { ArchiveError } from '../errors.js';
import { writeAtomically } from '@kbuild/loader/internal';
import { listArMembers, readArMember } from './ar.js';
import { entryPath } from './deb.js';

/**
 * Copies ONE regular file out of a big .deb (a -dbg package: ~1.7 GB of
 * data.tar) without holding or unpacking the rest: the data.tar member is read
 * from the file, decompressed by `xz`/`zstd`/`gzip` in a child process and
 * parsed as a stream; decompression stops as soon as the file is written.
 */
const DECOMPRESSORS = new Map<string, readonly string[]>([
  ['.xz', ['xz', '--decompress', '--stdout', '--threads=1']],
  ['.zst', ['zstd', '--decompress', '--stdout', '--quiet']],
  ['.gz', ['gzip', '--decompress', '--stdout']],
]);

export async function streamDebMember(debPath: string, member: string, destFile: string, signal?: AbortSignal): Promise<{ size: number }> {
  const wanted = entryPath(member);
  const members = await listArMembers(debPath);
  if (members[0]?.name !== 'debian-binary' || !/^2\.[0-9]+\n$/.test((await readArMember(debPath, members[0])).toString('latin1'))) {
    throw new ArchiveError(`${debPath}: not a .deb (no debian-binary 2.x first)`);
  }
  const data = members.find((m) => m.name.startsWith('data.tar'));
  const command = data === undefined ? undefined : DECOMPRESSORS.get(data.name.slice('data.tar'.length));
  if (data === undefined || command === undefined) throw new ArchiveError(`${debPath}: no data.tar.xz, .zst or .gz member to stream`);
  const [tool, ...args] = command as [string, ...string[]];

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
  const onAbort = (): void => void child.kill('SIGKILL');
  signal?.addEventListener('abort', onAbort, { once: true });
  // EPIPE once the tar parser stops reading is expected: the rest of the archive is not wanted.
  child.stdin.on('error', () => undefined);
  const feed = pipeline(createReadStream(debPath, { start: data.offset, end: data.offset + data.size - 1 }), child.stdin).catch(() => undefined);

  try {
    await spawned;
    const extract = tarStream.extract();
    child.stdout.pipe(extract);
    for await (const entry of extract) {
      let name: string | undefined;
      try {
        name = entryPath(entry.header.name);
      } catch {
        name = undefined;
      }
      if (name !== wanted) {
        entry.resume();
        continue;
      }
      if (entry.header.type !== 'file') throw new ArchiveError(`${debPath}: ${member} is a ${entry.header.type}, not a regular file`);
      let size = 0;
      await writeAtomically(destFile, async (tmp) => {
        const file = await open(tmp, 'wx', 0o644);
        try {
          for await (const chunk of entry) {
            size += (chunk as Buffer).length;
            await file.write(chunk as Uint8Array);
          }
        } finally {
          await file.close();
        }
      });
      if (size !== entry.header.size) throw new ArchiveError(`${debPath}: ${member} is truncated (${size} of ${entry.header.size ?? '?'} bytes)`);
      return { size };
    }
    const code = await exited;
    if (code !== 0) throw new ArchiveError(`${debPath}: ${tool} failed on ${data.name} (exit ${code ?? 'signal'}): ${stderr.trim()}`);
    throw new ArchiveError(`${debPath}: no ${member} in ${data.name}`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    child.stdout.destroy();
    if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all([exited, feed]);
  }
}
