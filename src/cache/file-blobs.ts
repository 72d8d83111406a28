import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NO_HARD_LINK } from './content-cache.js';

/**
 * Files by content, shared by every tree extracted into the cache: a header
 * file is written once, whatever number of packages hold it, and each tree
 * gets a hard link to it. Two ABIs' -common packages (6.1.0-47 and 6.1.0-50,
 * or an ABI's -common and -common-rt) share nearly all of their ~6,500 files,
 * and on this kind of disk creating a file costs about ten times what linking
 * one does: creating files is what a cold build spent its extraction time on.
 *
 *   <cache>/blobs/<2 hex>/<sha256>[x]      "x": the executable copy
 *
 * Like every tree of the cache, a tree linked from blobs is never modified in
 * place (a change replaces the file), so sharing inodes is safe.
 */
export class FileBlobs {
  private readonly made = new Set<string>();

  constructor(readonly root: string) {}

  /** Puts `body` at `path` (which must not exist) as a link to its blob, making the blob first when new. */
  async place(path: string, body: Buffer, executable: boolean): Promise<void> {
    const sha = createHash('sha256').update(body).digest('hex');
    const blob = join(this.root, sha.slice(0, 2), `${sha}${executable ? 'x' : ''}`);
    const mode = executable ? 0o755 : 0o644;
    // No hard link here (another filesystem, none allowed, a blob with all the links it may have): a file of its own.
    const alone = (err: NodeJS.ErrnoException): Promise<void> => {
      if (!NO_HARD_LINK.has(err.code ?? '')) throw err;
      return writeFile(path, body, { flag: 'wx', mode });
    };
    try {
      await link(blob, path);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return alone(err as NodeJS.ErrnoException);
    }
    await this.write(blob, body, mode);
    await link(blob, path).catch(alone);
  }

  /** Written under a unique name and renamed: a reader (another worker too) sees the whole blob or none. */
  private async write(blob: string, body: Buffer, mode: number): Promise<void> {
    const dir = join(blob, '..');
    if (!this.made.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.made.add(dir);
    }
    const tmp = `${blob}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(tmp, body, { flag: 'wx', mode }).catch(async (err: NodeJS.ErrnoException) => {
        // The folder went away since it was made (someone emptied the cache to free space): made again, once.
        if (err.code !== 'ENOENT') throw err;
        await mkdir(dir, { recursive: true });
        await writeFile(tmp, body, { flag: 'wx', mode });
      });
      await rename(tmp, blob);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}
