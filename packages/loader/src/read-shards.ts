import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { IndexFormatError, IntegrityError, KbuildError, LoaderErrorCode } from './errors.js';
import type { ArtifactIndex } from './index-schema.js';
import { SizeLimitError, type IndexSource } from './index-source.js';
import { MAX_SIGNATURE_BYTES, parseIndex, readVerifiedBytes } from './read-index.js';
import {
  coreShardKey, MANIFEST_KEY, MANIFEST_VERSION, MAX_MANIFEST_BYTES, MAX_NODE_BYTES, MAX_SHARD_BYTES,
  nodeKey, shardKey, ShardManifest, trieDigit, TrieNode, type ShardRef,
} from './shard-manifest.js';
import { nextSignatureKey, parseSignature, sha256Hex, type IndexTrustOptions, type IndexTrustResult } from './signature.js';

/** What a pick reads: one kernel's shard (or the whole index), with what it cost. */
export interface PickIndex {
  /** The kernel's shard (an index holding only what its pick reads), or the whole index.json. */
  readonly index: ArtifactIndex;
  /** Every probe the store lists. */
  readonly probes: readonly string[];
  readonly trust: IndexTrustResult;
  /** Printable location of the manifest or index that was read. */
  readonly location: string;
  /** `shards`: the signed manifest and this kernel's shard; `index`: index.json (no manifest, or a stale one). */
  readonly via: 'shards' | 'index';
  /** Every file read and its size, signatures included. */
  readonly reads: readonly { readonly key: string; readonly bytes: number }[];
}

export interface KernelKey {
  readonly distro: string;
  readonly arch: string;
  readonly release: string;
}

const STALE_RETRIES = 3;

/** `source`, noting every file it returns in `reads`. */
export function countingSource(source: IndexSource, reads: { key: string; bytes: number }[]): IndexSource {
  return {
    location: source.location,
    read: async (key, maxBytes) => {
      const bytes = await source.read(key, maxBytes);
      if (bytes !== undefined) reads.push({ key, bytes: bytes.length });
      return bytes;
    },
    close: () => source.close(),
  };
}

/**
 * The kernel's shard through the signed manifest: undefined when the store has
 * no manifest, one of a version this loader does not read, or one that is not
 * of the current index.json (an older kbuild published after it): the caller
 * reads index.json then. Every node and shard is checked against the size and
 * sha256 its parent lists before it is parsed.
 */
export async function readShardsFor(source: IndexSource, kernel: KernelKey, options: IndexTrustOptions): Promise<PickIndex | undefined> {
  for (let attempt = 1; ; attempt++) {
    const reads: { key: string; bytes: number }[] = [];
    const counted = countingSource(source, reads);
    const verified = await readVerifiedBytes(counted, MANIFEST_KEY, options, MAX_MANIFEST_BYTES);
    if (verified === undefined) return undefined;
    const manifest = parseManifest(verified.bytes, `${source.location}/${MANIFEST_KEY}`);
    if (manifest === undefined) return undefined;
    if (!(await isCurrent(counted, manifest))) {
      // A publish between our reads of the manifest and of index.json.sig: read both again; still stale, index.json.
      if (attempt < STALE_RETRIES) {
        await sleep(250 * attempt);
        continue;
      }
      return undefined;
    }
    const index = await kernelShard(counted, manifest, kernel);
    return { index, probes: manifest.probes, trust: verified.trust, location: `${source.location}/${MANIFEST_KEY}`, via: 'shards', reads };
  }
}

function parseManifest(bytes: Buffer, where: string): ShardManifest | undefined {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new IndexFormatError(`${where}: not JSON (${(err as Error).message})`);
  }
  // A newer writer's format: index.json is still written for readers like this one.
  if (typeof json === 'object' && json !== null && (json as { version?: unknown }).version !== MANIFEST_VERSION) return undefined;
  const parsed = ShardManifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new IndexFormatError(`${where}: not a kbuild index manifest: ${issue?.path.map(String).join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * The manifest must be the one of the index.json in the store (its signature,
 * or the next one of a publish in progress): an older kbuild that knows no
 * shards publishes index.json and leaves the manifest behind.
 */
async function isCurrent(source: IndexSource, manifest: ShardManifest): Promise<boolean> {
  let sawSignature = false;
  for (const key of ['index.json.sig', nextSignatureKey('index.json')]) {
    const bytes = await source.read(key, MAX_SIGNATURE_BYTES);
    if (bytes === undefined) continue;
    sawSignature = true;
    if (parseSignature(bytes, `${source.location}/${key}`).indexSha256 === manifest.indexSha256) return true;
  }
  // An unsigned store: nothing small tells which index.json is there.
  return !sawSignature;
}

async function kernelShard(source: IndexSource, manifest: ShardManifest, kernel: KernelKey): Promise<ArtifactIndex> {
  const group = manifest.kernels.find((k) => k.distro === kernel.distro && k.arch === kernel.arch);
  let ref: ShardRef | undefined;
  if (group !== undefined) {
    let node: ShardRef | null | undefined = group.root;
    while (node !== null && node !== undefined) {
      const key = nodeKey(group.distro, group.arch, node.sha256);
      const parsed = parseNode(gunzipped(await readRef(source, key, node), MAX_NODE_BYTES, `${source.location}/${key}`));
      if (parsed.kind === 'leaf') {
        ref = parsed.kernels.find((k) => k.release === kernel.release)?.shard;
        break;
      }
      node = parsed.children[trieDigit(kernel.release, parsed.depth)];
    }
  }
  if (ref !== undefined && group !== undefined) return parseShard(source, shardKey(group.distro, group.arch, ref.sha256), ref);
  // A kernel the store lists nothing for: the CO-RE objects of its arch, if any.
  const core = manifest.core.find((c) => c.arch === kernel.arch);
  if (core !== undefined) return parseShard(source, coreShardKey(core.arch, core.shard.sha256), core.shard);
  return { schemaVersion: 3, generatedAt: manifest.generatedAt, generator: 'kbuild manifest', artifacts: [], failures: [], kernelBtf: [] };
}

async function parseShard(source: IndexSource, key: string, ref: ShardRef): Promise<ArtifactIndex> {
  const where = `${source.location}/${key}`;
  return parseIndex(gunzipped(await readRef(source, key, ref), MAX_SHARD_BYTES, where).toString('utf8'), where);
}

/** Checked bytes, inflated no further than `maxBytes` (a signed but hostile publisher gets no gzip bomb through). */
function gunzipped(bytes: Buffer, maxBytes: number, where: string): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (err) {
    throw new IndexFormatError(`${where}: not gzipped JSON of at most ${maxBytes} bytes (${(err as Error).message})`);
  }
}

function parseNode(bytes: Buffer): TrieNode {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new IndexFormatError(`a node of the index manifest's trie is not JSON (${(err as Error).message})`);
  }
  const parsed = TrieNode.safeParse(json);
  // Its sha256 was in a signed parent: a malformed node was published so.
  if (!parsed.success) throw new IndexFormatError(`a node of the index manifest's trie is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** A content-addressed file, refused unless it has the size and sha256 its signed parent lists. */
async function readRef(source: IndexSource, key: string, ref: ShardRef): Promise<Buffer> {
  const where = `${source.location}/${key}`;
  if (ref.size > MAX_SHARD_BYTES) throw new IntegrityError(LoaderErrorCode.SHARD_INTEGRITY, `${where}: listed with ${ref.size} bytes, more than the ${MAX_SHARD_BYTES} allowed`);
  const bytes = await source.read(key, ref.size).catch((err: unknown) => {
    if (err instanceof SizeLimitError) throw new IntegrityError(LoaderErrorCode.SHARD_INTEGRITY, `${where}: larger than the ${ref.size} bytes the manifest lists`);
    throw err;
  });
  if (bytes === undefined) throw new KbuildError(LoaderErrorCode.SHARD_MISSING, `${where} is listed in the index manifest but does not exist`);
  if (bytes.length !== ref.size) throw new IntegrityError(LoaderErrorCode.SHARD_INTEGRITY, `${where}: the manifest lists ${ref.size} bytes, received ${bytes.length}`);
  const actual = sha256Hex(bytes);
  if (actual !== ref.sha256) throw new IntegrityError(LoaderErrorCode.SHARD_INTEGRITY, `${where}: sha256 ${actual}, the manifest lists ${ref.sha256} (tampered or corrupted)`);
  return bytes;
}
