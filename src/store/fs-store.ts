import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { assertSafeKey } from './keys.js';
import type { ArtifactStore, StoreObjectInfo } from './types.js';

/** The embedded default: a folder. Writes go to a temporary name, then rename(2). */
export class FsStore implements ArtifactStore {
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  private pathOf(key: string): string {
    return join(this.location, assertSafeKey(key));
  }

  async putFile(key: string, sourcePath: string): Promise<void> {
    await this.atomically(key, (tmp) => copyFile(sourcePath, tmp));
  }

  async putBytes(key: string, bytes: Uint8Array): Promise<void> {
    await this.atomically(key, (tmp) => writeFile(tmp, bytes));
  }

  async get(key: string): Promise<Buffer | undefined> {
    return readFile(this.pathOf(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
  }

  async stat(key: string): Promise<StoreObjectInfo | undefined> {
    return stat(this.pathOf(key)).then(
      (s) => ({ size: s.size }),
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      },
    );
  }

  async close(): Promise<void> {}

  private async atomically(key: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      await write(tmp);
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}
