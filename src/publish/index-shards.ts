import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { ArtifactIndex, IndexArch, IndexArtifact, IndexKernelBtf } from '@kbuild/loader';
import {
  coreShardKey, MANIFEST_VERSION, nodeKey, shardKey, TRIE_LEAF_MAX, trieDigit,
  type ShardManifest, type ShardRef, type TrieNode,
} from '@kbuild/loader/internal';
import { artifactView, kernelBtfView, shardIndex } from './pick-view.js';

/** A content-addressed file of the sharded index: written once, never changed. */
export interface ShardFile {
  readonly key: string;
  readonly bytes: Buffer;
}

export interface CutIndex {
  readonly manifest: ShardManifest;
  /** Shards and trie nodes, children before parents. */
  readonly files: readonly ShardFile[];
}

const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Compact gzipped JSON: shards are read by programs, and every byte is downloaded by every agent. */
function contentFile(value: unknown, keyOf: (sha256: string) => string, files: ShardFile[]): ShardRef {
  // zlib's gzip has a zero mtime and a fixed OS byte: the same value gives the same bytes, and key.
  const bytes = gzipSync(JSON.stringify(value), { level: 9 });
  const sha256 = sha256Hex(bytes);
  files.push({ key: keyOf(sha256), bytes });
  return { sha256, size: bytes.length };
}

interface KernelGroup {
  readonly distro: string;
  readonly arch: IndexArch;
  readonly releases: Map<string, { artifacts: IndexArtifact[]; kernelBtf: IndexKernelBtf[] }>;
}

/** Every kernel the index says something about a pick could read: per-kernel objects, external BTF, CO-RE QEMU entries. */
function groupKernels(index: ArtifactIndex): Map<string, KernelGroup> {
  const groups = new Map<string, KernelGroup>();
  const slot = (distro: string, arch: IndexArch, release: string) => {
    const id = `${distro}/${arch}`;
    let group = groups.get(id);
    if (group === undefined) groups.set(id, (group = { distro, arch, releases: new Map() }));
    let entry = group.releases.get(release);
    if (entry === undefined) group.releases.set(release, (entry = { artifacts: [], kernelBtf: [] }));
    return entry;
  };
  for (const a of index.artifacts) {
    if (a.kind === 'non-core') slot(a.kernel.distro, a.arch, a.kernel.release).artifacts.push(a);
    else for (const v of a.verification) if (v.method === 'qemu' && v.kernel !== undefined && v.kernel.arch === a.arch) slot(v.kernel.distro, a.arch, v.kernel.release);
  }
  for (const k of index.kernelBtf) slot(k.kernel.distro, k.kernel.arch, k.kernel.release).kernelBtf.push(k);
  return groups;
}

/**
 * Cuts an index into per-kernel shards (that kernel's per-kernel objects,
 * the CO-RE objects of its arch with the QEMU entries of that kernel, its
 * external BTF), one CO-RE shard per arch for kernels the index does not
 * list, and per distro and arch a hash trie over releases. The same index
 * always gives the same files, so an unchanged kernel's shard is not rewritten.
 */
export function cutIndex(index: ArtifactIndex, indexSha256: string): CutIndex {
  const files: ShardFile[] = [];
  const coreByArch = new Map<IndexArch, IndexArtifact[]>();
  for (const a of index.artifacts) if (a.kind === 'core') coreByArch.set(a.arch, [...(coreByArch.get(a.arch) ?? []), a]);
  const kernels: ShardManifest['kernels'] = [];
  for (const group of [...groupKernels(index).values()].sort((x, y) => `${x.distro}/${x.arch}`.localeCompare(`${y.distro}/${y.arch}`))) {
    const core = coreByArch.get(group.arch) ?? [];
    const leaves = [...group.releases.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([release, entry]) => {
      const id = { distro: group.distro, release, arch: group.arch };
      const artifacts = [...entry.artifacts, ...core].map((a) => artifactView(a, id)).sort((x, y) => x.path.localeCompare(y.path));
      const shard = shardIndex(index, artifacts, entry.kernelBtf.map(kernelBtfView));
      return { release, shard: contentFile(shard, (sha) => shardKey(group.distro, group.arch, sha), files) };
    });
    const root = trieNode(leaves, 0, (node) => contentFile(node, (sha) => nodeKey(group.distro, group.arch, sha), files));
    kernels.push({ distro: group.distro, arch: group.arch, root });
  }
  const core = [...coreByArch.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([arch, artifacts]) => {
    const shard = shardIndex(index, artifacts.map((a) => artifactView(a, undefined)), []);
    return { arch, shard: contentFile(shard, (sha) => coreShardKey(arch, sha), files) };
  });
  const manifest: ShardManifest = {
    format: 'kbuild-index-manifest',
    version: MANIFEST_VERSION,
    indexSha256,
    generatedAt: index.generatedAt,
    probes: [...new Set(index.artifacts.map((a) => a.probe))].sort(),
    kernels,
    core,
  };
  return { manifest, files };
}

type Leaf = { release: string; shard: ShardRef };

/** A leaf when the kernels fit, else a branch on hex digit `depth` of sha256(release). */
function trieNode(leaves: readonly Leaf[], depth: number, write: (node: TrieNode) => ShardRef): ShardRef {
  if (leaves.length <= TRIE_LEAF_MAX || depth >= 63) return write({ kind: 'leaf', kernels: [...leaves] });
  const buckets: Leaf[][] = Array.from({ length: 16 }, () => []);
  for (const leaf of leaves) buckets[trieDigit(leaf.release, depth)]?.push(leaf);
  const children = buckets.map((bucket) => (bucket.length === 0 ? null : trieNode(bucket, depth + 1, write)));
  return write({ kind: 'branch', depth, children });
}
