import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { IntegrityError, KbuildError } from '../errors.js';
import { writeFileAtomically } from '../util/atomic-file.js';
import { detectHost, type HostIdentity } from './host.js';
import type { ArtifactIndex } from './index-schema.js';
import { openIndexSource, SizeLimitError, type IndexSource, type SourceOptions } from './index-source.js';
import { describePick, pick, type PickResult } from './pick.js';
import { IndexFormatError, parseIndex } from './read-index.js';
import { nextSignatureKey, parseSignature, publicKeyFromPem, sha256Hex, verifyIndexBytes, type IndexSignature, type IndexTrustResult } from './signature.js';

export interface FetchOptions extends SourceOptions {
  /** index.json as a path, file://, http(s):// or s3:// URL (or the folder/prefix holding it). */
  readonly index: string;
  /** Download cache: files are named by their sha256, so a second start finds them. */
  readonly dest: string;
  /** Probes to fetch; default: every probe the index lists. */
  readonly probes?: readonly string[];
  /** The publisher's ed25519 public key (KeyObject or PEM text). */
  readonly publicKey?: KeyObject | string | Buffer;
  readonly allowUnsigned?: boolean;
  /** Overrides for host detection (tests, or fetching for another machine). */
  readonly host?: Partial<HostIdentity>;
  /** Take the CO-RE object (and its external BTF when the kernel has none) over an exact per-kernel one. */
  readonly preferCore?: boolean;
  /** Only artifacts with an ok QEMU verification for the host's kernel in the mode they would run in. */
  readonly requireVerified?: boolean;
}

export interface FetchedFile {
  readonly key: string;
  /** Absolute path in the cache, verified against the index's size and sha256. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** False when the cache already held it: nothing was downloaded. */
  readonly downloaded: boolean;
}

export interface FetchedProbe {
  readonly pick: PickResult;
  /** The BPF object for libbpf; undefined when nothing in the index runs on this host. */
  readonly object?: FetchedFile;
  /** External BTF for libbpf's btf_custom_path, when the host kernel has no BTF of its own. */
  readonly btf?: FetchedFile;
}

export interface FetchResult {
  readonly index: string;
  readonly trust: IndexTrustResult;
  readonly host: HostIdentity;
  readonly probes: readonly FetchedProbe[];
}

const MAX_INDEX_BYTES = 64 << 20;
const MAX_SIGNATURE_BYTES = 4096;
/** A publish writes index.json then index.json.sig: a read in between sees a pair that does not match yet. */
const TORN_READ_RETRIES = 3;

/**
 * The agent's start-up: read and verify the index, pick for this host,
 * download only the chosen object (and its external BTF), verify both against
 * the signed index, and keep them in a content-addressed cache. Nothing is
 * written under its final name before it is verified.
 */
export async function fetchArtifacts(options: FetchOptions): Promise<FetchResult> {
  const { source, indexKey } = await openIndexSource(options.index, options);
  try {
    const { index, trust } = await readVerifiedIndex(source, indexKey, options);
    const host = await detectHost(options.host);
    const probes = options.probes ?? [...new Set(index.artifacts.map((a) => a.probe))].sort();
    if (probes.length === 0) throw new KbuildError('E_EMPTY_INDEX', `${source.location}/${indexKey} lists no artifacts`, { exitCode: 3 });
    const fetched: FetchedProbe[] = [];
    for (const probe of probes) {
      const result = pick(index, host, probe, { preferCore: options.preferCore === true, requireVerified: options.requireVerified === true });
      const choice = result.choice;
      if (choice === undefined) {
        fetched.push({ pick: result });
        continue;
      }
      const object = await fetchVerified(source, options.dest, choice.artifact, '.o');
      const btf = choice.btf === undefined ? undefined : await fetchVerified(source, options.dest, choice.btf, '.btf');
      fetched.push({ pick: result, object, ...(btf === undefined ? {} : { btf }) });
    }
    return { index: `${source.location}/${indexKey}`, trust, host, probes: fetched };
  } finally {
    await source.close();
  }
}

/** One probe; throws E_UNSUPPORTED_KERNEL, with every rejection, when nothing runs on this host. */
export async function fetchArtifact(options: Omit<FetchOptions, 'probes'> & { readonly probe: string }): Promise<FetchedProbe & { object: FetchedFile }> {
  const result = await fetchArtifacts({ ...options, probes: [options.probe] });
  const fetched = result.probes[0];
  if (fetched?.object === undefined) {
    throw new KbuildError('E_UNSUPPORTED_KERNEL', fetched === undefined ? `no probe ${options.probe}` : describePick(fetched.pick), { exitCode: 3 });
  }
  return { ...fetched, object: fetched.object };
}

/** The index as `fetch` trusts it: signature checked (or --allow-unsigned) before a byte is parsed; also what `kbuild report` reads. */
export async function readVerifiedIndex(source: IndexSource, indexKey: string, options: Pick<FetchOptions, 'publicKey' | 'allowUnsigned'>): Promise<{ index: ArtifactIndex; trust: IndexTrustResult }> {
  const where = `${source.location}/${indexKey}`;
  const given = options.publicKey;
  const publicKey = typeof given === 'string' || Buffer.isBuffer(given) ? publicKeyFromPem(given, 'the public key') : given;
  const trust = { ...(publicKey === undefined ? {} : { publicKey }), ...(options.allowUnsigned === undefined ? {} : { allowUnsigned: options.allowUnsigned }) };
  for (let attempt = 1; ; attempt++) {
    const bytes = await source.read(indexKey, MAX_INDEX_BYTES);
    if (bytes === undefined) throw new KbuildError('E_INDEX_NOT_FOUND', `${where} does not exist`, { exitCode: 2 });
    const sigBytes = publicKey === undefined ? undefined : await source.read(`${indexKey}.sig`, MAX_SIGNATURE_BYTES);
    let signature = sigBytes === undefined ? undefined : parseSignature(sigBytes, `${where}.sig`);
    // No signature, or another index's: a publish cut short before index.json.sig left this index's as the next one.
    if (publicKey !== undefined && signature?.indexSha256 !== sha256Hex(bytes)) signature = (await nextSignatureFor(source, indexKey, bytes)) ?? signature;
    if (signature !== undefined && signature.indexSha256 !== sha256Hex(bytes) && attempt < TORN_READ_RETRIES) {
      await sleep(250 * attempt);
      continue;
    }
    // Verified before parsing: not a byte of an untrusted index is interpreted.
    const result = verifyIndexBytes(bytes, signature, trust, where);
    try {
      return { index: parseIndex(bytes.toString('utf8'), where), trust: result };
    } catch (err) {
      // Downloaded and refused, like a bad signature (README: exit 4), even when its signature holds.
      if (err instanceof IndexFormatError) throw new IntegrityError(err.code, err.message);
      throw err;
    }
  }
}

/** A publish cut short between index.json and its signature left the signature of that index under the next-signature key. */
async function nextSignatureFor(source: IndexSource, indexKey: string, bytes: Buffer): Promise<IndexSignature | undefined> {
  const key = nextSignatureKey(indexKey);
  const nextBytes = await source.read(key, MAX_SIGNATURE_BYTES);
  const next = nextBytes === undefined ? undefined : parseSignature(nextBytes, `${source.location}/${key}`);
  return next?.indexSha256 === sha256Hex(bytes) ? next : undefined;
}

interface Expected {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** Cache hit when a file of that name has the expected bytes; else download, verify, then rename into place. */
async function fetchVerified(source: IndexSource, dest: string, expected: Expected, suffix: string): Promise<FetchedFile> {
  const path = join(dest, `${expected.sha256}${suffix}`);
  const base = { key: expected.path, path, size: expected.size, sha256: expected.sha256 };
  const cached = await readFile(path).catch(() => undefined);
  if (cached !== undefined && cached.length === expected.size && sha256Hex(cached) === expected.sha256) return { ...base, downloaded: false };
  const what = `${source.location}/${expected.path}`;
  const bytes = await source.read(expected.path, expected.size).catch((err: unknown) => {
    if (err instanceof SizeLimitError) throw new IntegrityError('E_ARTIFACT_SIZE', `${what}: larger than the ${expected.size} bytes the index lists`);
    throw err;
  });
  if (bytes === undefined) throw new KbuildError('E_ARTIFACT_MISSING', `${what} is listed in the index but does not exist`);
  if (bytes.length !== expected.size) {
    throw new IntegrityError('E_ARTIFACT_SIZE', `${what}: the index lists ${expected.size} bytes, received ${bytes.length} (truncated?)`);
  }
  const actual = sha256Hex(bytes);
  if (actual !== expected.sha256) throw new IntegrityError('E_ARTIFACT_SHA256', `${what}: sha256 ${actual}, the index lists ${expected.sha256}`);
  await writeFileAtomically(path, bytes);
  return { ...base, downloaded: true };
}
