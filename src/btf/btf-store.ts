import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { KbuildError } from '../errors.js';
import type { IndexArtifact, IndexExternalBtf } from '@kbuild/loader';
import { assertSafeKey } from '../store/keys.js';
import { storedBytesMatch } from '../store/stored-bytes.js';
import type { ArtifactStore } from '../store/types.js';

/**
 * BTF files in the store are content-addressed, `btf/<sha256>.btf`: kernels
 * whose minimized BTFs are byte-identical (same layouts of the few types a
 * probe touches) share one blob, and a blob already there is not written again.
 */
export function btfKey(sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new KbuildError('E_STORE_KEY', `not a sha256: ${sha256}`);
  return assertSafeKey(`btf/${sha256}.btf`);
}

export interface StoredBtf {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** False when the store already held this blob (deduplicated). */
  readonly written: boolean;
}

export async function storeBtfBlob(store: ArtifactStore, file: string): Promise<StoredBtf> {
  const bytes = await readFile(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const path = btfKey(sha256);
  const ref = { path, size: bytes.length, sha256 };
  // Dedup only on the very bytes: a damaged blob under its own name is written again, not trusted.
  if (await storedBytesMatch(store, ref)) return { ...ref, written: false };
  await store.putBytes(path, bytes);
  // Read back like every artifact: the index must not promise what the store does not hold.
  if (!(await storedBytesMatch(store, ref))) {
    throw new KbuildError('E_STORE_VERIFY', `${path}: stored bytes differ from the BTF written`, { retryable: true });
  }
  return { ...ref, written: true };
}

/** A record's external BTF is usable only while its blob is in the store with the same bytes. */
export async function externalBtfIntact(store: ArtifactStore, record: IndexArtifact): Promise<boolean> {
  const btf: IndexExternalBtf | undefined = record.externalBtf;
  return btf === undefined || storedBytesMatch(store, btf.btf);
}
