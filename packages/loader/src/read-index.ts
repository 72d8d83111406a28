import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { IndexFormatError, KbuildError, LoaderErrorCode } from './errors.js';
import { ArtifactIndex } from './index-schema.js';
import { openIndexSource, type IndexSource, type SourceOptions } from './index-source.js';
import {
  nextSignatureKey,
  parseSignature,
  publicKeyFromPem,
  requireTrust,
  sha256Hex,
  verifyIndexBytes,
  type IndexSignature,
  type IndexTrustOptions,
  type IndexTrustResult,
  type RequiredTrust,
} from './signature.js';

export interface ReadIndexResult {
  readonly index: ArtifactIndex;
  readonly trust: IndexTrustResult;
  /** Printable location of the index that was read. */
  readonly location: string;
}

const MAX_INDEX_BYTES = 64 << 20;
export const MAX_SIGNATURE_BYTES = 4096;
/** A publish writes index.json then index.json.sig: a read in between sees a pair that does not match yet. */
const TORN_READ_RETRIES = 3;

/**
 * Parses bytes that are already trusted (the publisher's own store): no
 * signature is checked here. Agents read through `readIndex`.
 */
export function parseIndex(text: string, source: string): ArtifactIndex {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new IndexFormatError(`${source}: not JSON (${(err as Error).message})`);
  }
  const parsed = ArtifactIndex.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.map(String).join('.') ?? '';
    throw new IndexFormatError(`${source}: not a kbuild index: ${where === '' ? '' : `${where}: `}${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * Reads and verifies an index from a path, a folder holding index.json, a
 * file://, http(s):// or s3:// URL: the one way `kbuild pick`, `fetch`,
 * `report` and agents read an index. The signature is checked before a byte
 * is parsed; without a public key only `allowUnsigned: true` lets it through.
 */
export async function readIndex(location: string, options: RequiredTrust & SourceOptions): Promise<ReadIndexResult> {
  return withVerifiedIndex(location, options, async (read) => read);
}

/** Opens `location`, reads and verifies its index, hands both to `use` (which may read artifacts from the source), then closes the source. */
export async function withVerifiedIndex<T>(location: string, options: IndexTrustOptions & SourceOptions, use: (read: ReadIndexResult, source: IndexSource) => Promise<T>): Promise<T> {
  requireTrust(options, location);
  const { source, indexKey } = await openIndexSource(location, options);
  try {
    const read = await readVerifiedIndex(source, indexKey, options);
    return await use({ ...read, location: `${source.location}/${indexKey}` }, source);
  } finally {
    await source.close();
  }
}

/** `readIndex` of a local file (kept for agents written against earlier versions); the trust argument is required. */
export async function readIndexFile(path: string, trust: RequiredTrust): Promise<ArtifactIndex> {
  return (await readIndex(resolve(path), trust)).index;
}

/** The index as an agent trusts it, from an opened source: signature checked (or allowUnsigned) before a byte is parsed. */
export async function readVerifiedIndex(source: IndexSource, indexKey: string, options: IndexTrustOptions): Promise<{ index: ArtifactIndex; trust: IndexTrustResult }> {
  const read = await readVerifiedBytes(source, indexKey, options, MAX_INDEX_BYTES);
  if (read === undefined) throw new KbuildError(LoaderErrorCode.INDEX_NOT_FOUND, `${source.location}/${indexKey} does not exist`, { exitCode: 2 });
  return { index: parseIndex(read.bytes.toString('utf8'), `${source.location}/${indexKey}`), trust: read.trust };
}

/**
 * The bytes of a detached-signed file (index.json, the shard manifest) as an
 * agent trusts them: `<key>.sig` (or `<key>.next.sig` after a publish cut
 * short) checked before the caller parses a byte; a torn read (file and
 * signature of two publishes) is read again. Undefined when `key` does not exist.
 */
export async function readVerifiedBytes(source: IndexSource, key: string, options: IndexTrustOptions, maxBytes: number): Promise<{ bytes: Buffer; trust: IndexTrustResult } | undefined> {
  const where = `${source.location}/${key}`;
  const given = options.publicKey;
  const publicKey = typeof given === 'string' || Buffer.isBuffer(given) ? publicKeyFromPem(given, 'the public key') : given;
  const trust = { ...(publicKey === undefined ? {} : { publicKey }), ...(options.allowUnsigned === undefined ? {} : { allowUnsigned: options.allowUnsigned }) };
  for (let attempt = 1; ; attempt++) {
    const bytes = await source.read(key, maxBytes);
    if (bytes === undefined) return undefined;
    const sigBytes = publicKey === undefined ? undefined : await source.read(`${key}.sig`, MAX_SIGNATURE_BYTES);
    let signature = sigBytes === undefined ? undefined : parseSignature(sigBytes, `${where}.sig`);
    // No signature, or another publish's: a publish cut short before <key>.sig left this file's as the next one.
    if (publicKey !== undefined && signature?.indexSha256 !== sha256Hex(bytes)) signature = (await nextSignatureFor(source, key, bytes)) ?? signature;
    if (signature !== undefined && signature.indexSha256 !== sha256Hex(bytes) && attempt < TORN_READ_RETRIES) {
      await sleep(250 * attempt);
      continue;
    }
    // Verified before parsing: not a byte of an untrusted file is interpreted. A malformed one is an IntegrityError (exit 4), like a bad signature.
    return { bytes, trust: verifyIndexBytes(bytes, signature, trust, where) };
  }
}

/** A publish cut short between index.json and its signature left the signature of that index under the next-signature key. */
async function nextSignatureFor(source: IndexSource, indexKey: string, bytes: Buffer): Promise<IndexSignature | undefined> {
  const key = nextSignatureKey(indexKey);
  const nextBytes = await source.read(key, MAX_SIGNATURE_BYTES);
  const next = nextBytes === undefined ? undefined : parseSignature(nextBytes, `${source.location}/${key}`);
  return next?.indexSha256 === sha256Hex(bytes) ? next : undefined;
}
