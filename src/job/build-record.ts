import { IndexArtifact } from '@kbuild/loader';
import { recordKey } from '../store/keys.js';
import { storedBytesMatch } from '../store/stored-bytes.js';
import type { ArtifactStore } from '../store/types.js';

/** The record stored beside an artifact; an unreadable one means "rebuild". */
export async function readBuildRecord(store: ArtifactStore, key: string): Promise<IndexArtifact | undefined> {
  const bytes = await store.get(recordKey(key));
  if (bytes === undefined) return undefined;
  try {
    const parsed = IndexArtifact.safeParse(JSON.parse(bytes.toString('utf8')));
    return parsed.success && parsed.data.path === key ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The record, only when the artifact it describes is in the store with the same bytes. */
export async function readIntactRecord(store: ArtifactStore, key: string): Promise<IndexArtifact | undefined> {
  const record = await readBuildRecord(store, key);
  return record !== undefined && (await storedBytesMatch(store, record)) ? record : undefined;
}
