import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { ArchiveError } from '../../errors.js';

/**
 * A Packages index is ~10 MB of xz and ~50 MB of text, of which kbuild keeps a
 * few hundred stanzas. Decompressed as a stream (xz in a child process, on
 * the other core) and cut into stanzas as it arrives, only the wanted ones
 * are kept: a cold resolution holds the compressed file and what it keeps,
 * not the text, its copy as a string and the array of every stanza.
 */
export async function selectStanzas(compressed: Buffer, suffix: '.xz' | '.gz', wanted: RegExp): Promise<string> {
  const kept: string[] = [];
  const decoder = new StringDecoder('utf8');
  let carry = '';
  const take = (block: string): void => {
    if (wanted.test(block.trimStart())) kept.push(block);
  };
  const consume = async (output: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of output) {
      const blocks = (carry + decoder.write(chunk)).split('\n\n');
      carry = blocks.pop() ?? '';
      for (const block of blocks) take(block);
    }
    take(carry + decoder.end());
  };
  if (suffix === '.gz') {
    await consume(Readable.from([compressed]).pipe(createGunzip()));
    return kept.join('\n\n');
  }
  const child = spawn('xz', ['--decompress', '--stdout', '--threads=1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString('utf8');
  });
  child.stdin.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) => reject(new ArchiveError(`xz is needed to read package indexes: ${err.message}`, { cause: err })));
    child.on('close', resolve);
  });
  child.stdin.end(compressed);
  await Promise.all([consume(child.stdout), exited]);
  const code = await exited;
  if (code !== 0) throw new ArchiveError(`xz exit ${code ?? 'signal'}: ${stderr.trim()}`);
  return kept.join('\n\n');
}
