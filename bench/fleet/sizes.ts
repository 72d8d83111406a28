import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const e of entries) {
    if (e.isFile()) total += (await stat(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))).size;
  }
  return total;
}

/** Shards of a sharded index (index/...): count, largest and total, or a note that the store has none. */
export async function shardSizes(store: string): Promise<string> {
  const dir = join(store, 'index');
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  const sizes: number[] = [];
  for (const e of entries) {
    if (e.isFile()) sizes.push((await stat(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))).size);
  }
  if (sizes.length === 0) return 'no index shards';
  return `${sizes.length} index shard files (largest ${(Math.max(...sizes) / 1024).toFixed(1)} KB, total ${(sizes.reduce((a, b) => a + b, 0) / 1024).toFixed(1)} KB)`;
}
