import { createPublicKey } from 'node:crypto';
import { IntegrityError, KbuildError } from '../errors.js';
import type { ArtifactIndex } from '@kbuild/loader';
import { parseIndex, INDEX_SIGNATURE_KEY, MANIFEST_KEY, nextSignatureKey, parseSignature, sha256Hex, verifyIndexBytes, type IndexSignature } from '@kbuild/loader/internal';
import { cutIndex } from './index-shards.js';
import { writeShardFiles } from './write-shards.js';
import { signIndexBytes, type SigningKey } from '../sign/signing-key.js';
import { INDEX_KEY } from '../store/keys.js';
import type { ArtifactStore } from '../store/types.js';

const NEXT_SIGNATURE_KEY = nextSignatureKey(INDEX_KEY);

/**
 * A signed publish is three writes: the next signature (`index.json.next.sig`),
 * then index.json, then index.json.sig. Whatever write fails, the store holds an
 * index with a signature that matches it — index.json.sig, or index.json.next.sig
 * between the last two writes — so readers keep verifying, and the next
 * publisher completes the switch before it writes anything else.
 *
 * The sharded form for agents goes in between: its content-addressed shards
 * first, then the manifest (signed the same way) once index.json.next.sig
 * names the index it was cut from, so a reader that finds the manifest also
 * finds a signature of its index (see docs/index-format.md).
 */
export async function writeSignedIndex(store: ArtifactStore, index: ArtifactIndex, bytes: Buffer, signingKey: SigningKey | undefined): Promise<void> {
  const cut = cutIndex(index, sha256Hex(bytes));
  await writeShardFiles(store, cut.files);
  const manifest = Buffer.from(`${JSON.stringify(cut.manifest)}\n`);
  if (signingKey === undefined) {
    await store.putBytes(MANIFEST_KEY, manifest);
    await store.putBytes(INDEX_KEY, bytes);
    return;
  }
  const signature = signIndexBytes(bytes, signingKey);
  await store.putBytes(NEXT_SIGNATURE_KEY, signature);
  const manifestSignature = signIndexBytes(manifest, signingKey);
  await store.putBytes(nextSignatureKey(MANIFEST_KEY), manifestSignature);
  await store.putBytes(MANIFEST_KEY, manifest);
  await store.putBytes(`${MANIFEST_KEY}.sig`, manifestSignature);
  await store.putBytes(INDEX_KEY, bytes);
  await store.putBytes(INDEX_SIGNATURE_KEY, signature);
}

/**
 * The stored index must be trustworthy before it is merged and re-signed:
 * signed by our own key when we sign, and never signed when we do not (an
 * unsigned write would leave a stale signature that no longer matches).
 * A publish interrupted between index.json and its signature is completed here.
 */
export async function readStoredIndex(store: ArtifactStore, signingKey: SigningKey | undefined): Promise<ArtifactIndex | undefined> {
  const [bytes, sigBytes] = await Promise.all([store.get(INDEX_KEY), store.get(INDEX_SIGNATURE_KEY)]);
  const where = `${store.location}/${INDEX_KEY}`;
  if (sigBytes !== undefined && signingKey === undefined) {
    throw new KbuildError('E_SIGNING_KEY_REQUIRED', `${where} is signed; publishing an unsigned index over it would break its signature`, {
      exitCode: 2,
      suggestions: ['Pass --signing-key FILE (or set KBUILD_SIGNING_KEY) with the key that signs this store'],
    });
  }
  if (bytes === undefined) return undefined;
  if (signingKey !== undefined) {
    // The first publish of a store, cut short before index.json.sig: its next signature completes it.
    if (sigBytes === undefined && (await store.stat(NEXT_SIGNATURE_KEY)) !== undefined) {
      const next = await completedSignature(store, bytes, where);
      verifyIndexBytes(bytes, next.signature, { publicKey: createPublicKey(signingKey.privateKey) }, where);
      await store.putBytes(INDEX_SIGNATURE_KEY, next.bytes);
      return parseStored(bytes, where);
    }
    if (sigBytes === undefined) {
      throw new KbuildError('E_INDEX_UNSIGNED', `${where} is not signed; refusing to sign entries nobody vouched for`, {
        exitCode: 2,
        suggestions: ['Check the stored index, then remove index.json so the next publish starts a signed one'],
      });
    }
    const trust = { publicKey: createPublicKey(signingKey.privateKey) };
    const signature = parseSignature(sigBytes, `${where}.sig`);
    if (signature.indexSha256 === sha256Hex(bytes)) {
      verifyIndexBytes(bytes, signature, trust, where);
    } else {
      const next = await completedSignature(store, bytes, where);
      verifyIndexBytes(bytes, next.signature, trust, where);
      // Verified: the interrupted publish's signature becomes the index's.
      await store.putBytes(INDEX_SIGNATURE_KEY, next.bytes);
    }
  }
  return parseStored(bytes, where);
}

function parseStored(bytes: Buffer, where: string): ArtifactIndex {
  try {
    return parseIndex(bytes.toString('utf8'), where);
  } catch (err) {
    throw new KbuildError('E_INDEX_FORMAT', `${(err as Error).message}; refusing to publish over it`, { exitCode: 2, cause: err });
  }
}

/** The next signature of an interrupted publish, when it is the one for `bytes`; else the mismatch is tampering. */
async function completedSignature(store: ArtifactStore, bytes: Buffer, where: string): Promise<{ signature: IndexSignature; bytes: Buffer }> {
  const nextBytes = await store.get(NEXT_SIGNATURE_KEY);
  const next = nextBytes === undefined ? undefined : parseSignature(nextBytes, `${store.location}/${NEXT_SIGNATURE_KEY}`);
  if (nextBytes === undefined || next === undefined || next.indexSha256 !== sha256Hex(bytes)) {
    throw new IntegrityError('E_INDEX_SIGNATURE', `${where}: the signature does not match the index (tampered or corrupted), and no interrupted publish explains it`);
  }
  return { signature: next, bytes: nextBytes };
}
