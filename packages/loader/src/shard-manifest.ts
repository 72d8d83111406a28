import { createHash } from 'node:crypto';
import { z } from 'zod';
import { IndexArch } from './index-schema.js';

/**
 * The sharded form of index.json, for agents: a small signed manifest
 * (`index/manifest.json`, signed like index.json) names, per distro and arch,
 * the root of a hash trie whose leaves map kernel releases to per-kernel
 * shards. Nodes and shards are content-addressed and their sha256 and size
 * are in their parent, so the manifest's signature covers every byte an agent
 * reads, and an agent reads O(log n) small files whatever the fleet size.
 * Nodes and shards are gzipped JSON (their sha256 is of the gzipped bytes):
 * sha256s and repeated keys shrink four to six times, and an agent's download
 * with them.
 */
export const MANIFEST_KEY = 'index/manifest.json';
/** Versions of the manifest this loader reads; a verified manifest of another version sends readers to index.json. */
export const MANIFEST_VERSION = 1;
/** At most this many kernels in a leaf: larger groups split on the next hex digit of sha256(release). */
export const TRIE_LEAF_MAX = 16;
export const MAX_MANIFEST_BYTES = 256 << 10;
/** Uncompressed: a node holds at most 16 children or TRIE_LEAF_MAX kernels; a shard one kernel's entries. */
export const MAX_NODE_BYTES = 64 << 10;
export const MAX_SHARD_BYTES = 16 << 20;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const Distro = z.string().regex(/^[a-z][a-z0-9]{1,31}$/);

/** A content-addressed file: its key follows from where it is referenced and its sha256. */
export const ShardRef = z.strictObject({ sha256: Sha256, size: z.number().int().nonnegative() });

export const TrieLeaf = z.strictObject({
  kind: z.literal('leaf'),
  kernels: z.array(z.strictObject({ release: z.string().max(128), shard: ShardRef })).max(4096),
});

/** children[d]: the subtree of releases whose sha256 has hex digit d at `depth`; null when none. */
export const TrieBranch = z.strictObject({
  kind: z.literal('branch'),
  depth: z.number().int().min(0).max(63),
  children: z.array(ShardRef.nullable()).length(16),
});

export const TrieNode = z.discriminatedUnion('kind', [TrieLeaf, TrieBranch]);

export const ShardManifest = z.strictObject({
  format: z.literal('kbuild-index-manifest'),
  version: z.number().int().positive(),
  /** sha256 of the index.json these shards were cut from: a manifest no publish of that index wrote is stale. */
  indexSha256: Sha256,
  generatedAt: z.string(),
  /** Every probe the index lists (a probe absent here is E_UNKNOWN_PROBE, as with index.json). */
  probes: z.array(z.string().max(63)).max(4096),
  /** Per distro and arch, the root node of the trie of its kernels. */
  kernels: z.array(z.strictObject({ distro: Distro, arch: IndexArch, root: ShardRef })).max(1024),
  /** Per arch, the CO-RE objects for kernels the store knows nothing of (no per-kernel entry). */
  core: z.array(z.strictObject({ arch: IndexArch, shard: ShardRef })).max(16),
});

export type ShardRef = z.infer<typeof ShardRef>;
export type TrieNode = z.infer<typeof TrieNode>;
export type ShardManifest = z.infer<typeof ShardManifest>;

export const nodeKey = (distro: string, arch: string, sha256: string): string => `index/nodes/${distro}/${arch}/${sha256}.json.gz`;
export const shardKey = (distro: string, arch: string, sha256: string): string => `index/shards/${distro}/${arch}/${sha256}.json.gz`;
export const coreShardKey = (arch: string, sha256: string): string => `index/core/${arch}/${sha256}.json.gz`;

/** The hex digit of sha256(release) a branch at `depth` splits on. */
export function trieDigit(release: string, depth: number): number {
  return parseInt(createHash('sha256').update(release).digest('hex').charAt(depth), 16);
}
