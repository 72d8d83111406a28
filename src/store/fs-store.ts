import { copyFile, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeAtomically, writeFileAtomically } from '@kbuild/loader/internal';
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
    await writeAtomically(this.pathOf(key), (tmp) => copyFile(sourcePath, tmp));
  }

  async putBytes(key: string, bytes: Uint8Array): Promise<void> {
    await writeFileAtomically(this.pathOf(key), bytes);
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

}

/** The folder behind a store, when it is one: what machines see only through a shared mount. */
export function localFolderOf(store: ArtifactStore): string | undefined {
  return store instanceof FsStore ? store.location : undefined;
}
