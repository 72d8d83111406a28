import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IntegrityError, KbuildError } from '../../errors.js';
import type { ArtifactStore } from '../../store/types.js';
import type { StoredObjectRef } from '../../store/stored-bytes.js';

/**
 * Downloads what the index names from the store into `dir` once per sha256
 * and checks size and sha256: the engine loads exactly what the index promises.
 */
export class StoreFiles {
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly store: ArtifactStore,
    private readonly dir: string,
  ) {}

  file(ref: StoredObjectRef, suffix: '.o' | '.btf'): Promise<string> {
    let got = this.pending.get(ref.sha256 + suffix);
    if (got === undefined) {
      got = this.download(ref, suffix);
      this.pending.set(ref.sha256 + suffix, got);
    }
    return got;
  }

  private async download(ref: StoredObjectRef, suffix: string): Promise<string> {
    const what = `${this.store.location}/${ref.path}`;
    const bytes = await this.store.get(ref.path);
    if (bytes === undefined) throw new KbuildError('E_ARTIFACT_MISSING', `${what} is listed in the index but is not in the store`);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== ref.size || actual !== ref.sha256) {
      throw new IntegrityError('E_ARTIFACT_SHA256', `${what}: ${bytes.length} bytes, sha256 ${actual}; the index lists ${ref.size} bytes, sha256 ${ref.sha256}`);
    }
    const path = join(this.dir, `${ref.sha256}${suffix}`);
    await writeFile(path, bytes);
    return path;
  }
}
