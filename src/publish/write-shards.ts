import type { ArtifactStore } from '../store/types.js';
import type { ShardFile } from './index-shards.js';

const CONCURRENCY = 8;

/**
 * Writes the content-addressed files a manifest will name, skipping those the
 * store already holds (same key, same bytes: an unchanged kernel's shard).
 * They are in the store before the manifest that names them.
 */
export async function writeShardFiles(store: ArtifactStore, files: readonly ShardFile[]): Promise<{ written: number; kept: number }> {
  const unique = [...new Map(files.map((f) => [f.key, f])).values()];
  let next = 0;
  let written = 0;
  const worker = async (): Promise<void> => {
    for (let file = unique[next++]; file !== undefined; file = unique[next++]) {
      const held = await store.stat(file.key);
      if (held?.size === file.bytes.length) continue;
      await store.putBytes(file.key, file.bytes);
      written++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, unique.length) }, worker));
  return { written, kept: unique.length - written };
}
