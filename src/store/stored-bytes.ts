import { createHash } from 'node:crypto';
import type { ArtifactStore } from './types.js';

/** What an index entry promises about a stored object: an artifact, or an external BTF blob. */
export interface StoredObjectRef {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** Whether the store holds exactly the bytes (size and sha256) an entry promises. */
export async function storedBytesMatch(store: ArtifactStore, ref: StoredObjectRef): Promise<boolean> {
  const bytes = await store.get(ref.path);
  return bytes !== undefined && bytes.length === ref.size && createHash('sha256').update(bytes).digest('hex') === ref.sha256;
}
