import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { IntegrityError, KbuildError } from '../errors.js';

/**
 * index.json is signed detached: `index.json.sig` holds an ed25519 signature
 * over the exact bytes of index.json, checked before the index is parsed, so
 * nothing an attacker wrote is interpreted before it is trusted.
 */
export const INDEX_SIGNATURE_KEY = 'index.json.sig';

/**
 * A publisher writes the signature of its new index here first, then the
 * index, then `<index>.sig`: a publish cut short between the last two writes
 * leaves an index whose signature is this one, and readers accept it.
 */
export const nextSignatureKey = (indexKey: string): string => `${indexKey}.next.sig`;

export const IndexSignature = z.strictObject({
  algorithm: z.literal('ed25519'),
  /** First 16 hex digits of the sha256 of the public key (DER SubjectPublicKeyInfo). */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** sha256 of the signed index.json: tells a torn read (index and signature from two publishes) from tampering. */
  indexSha256: z.string().regex(/^[0-9a-f]{64}$/),
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'a base64 ed25519 signature (64 bytes)'),
});
export type IndexSignature = z.infer<typeof IndexSignature>;

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16);
}

/** A PEM public key (`kbuild keygen` writes one), refused unless it is ed25519. */
export function publicKeyFromPem(pem: string | Buffer, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new KbuildError('E_PUBLIC_KEY', `${source}: not a PEM public key (${(err as Error).message})`, { exitCode: 2 });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KbuildError('E_PUBLIC_KEY', `${source}: expected an ed25519 public key, got ${key.asymmetricKeyType ?? 'unknown'}`, { exitCode: 2 });
  }
  return key;
}

export function parseSignature(bytes: Buffer, source: string): IndexSignature {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new IntegrityError('E_INDEX_SIGNATURE', `${source}: the signature file is not JSON`);
  }
  const parsed = IndexSignature.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new IntegrityError('E_INDEX_SIGNATURE', `${source}: not a kbuild index signature: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
  }
  return parsed.data;
}

export interface IndexTrust {
  /** The publisher's public key; without it only `allowUnsigned` lets an index through. */
  readonly publicKey?: KeyObject;
  /** Accept an index with no signature (or with one that cannot be checked for lack of a key). */
  readonly allowUnsigned?: boolean;
}

export type IndexTrustResult = { readonly signed: true; readonly keyId: string } | { readonly signed: false };

/**
 * Wrong key, bad signature and missing signature are distinct errors so an
 * operator can tell a key rotation from tampering.
 */
export function verifyIndexBytes(index: Buffer, signature: IndexSignature | undefined, trust: IndexTrust, source: string): IndexTrustResult {
  if (trust.publicKey === undefined) {
    if (trust.allowUnsigned === true) return { signed: false };
    throw new KbuildError('E_NO_PUBLIC_KEY', `${source}: no public key to verify the index with`, {
      exitCode: 2,
      suggestions: ['Pass --public-key FILE (written by `kbuild keygen`), or --allow-unsigned to trust the index as it is'],
    });
  }
  if (signature === undefined) {
    if (trust.allowUnsigned === true) return { signed: false };
    throw new IntegrityError('E_INDEX_UNSIGNED', `${source}: the index has no ${INDEX_SIGNATURE_KEY}`, {
      suggestions: ['Publish with --signing-key, or pass --allow-unsigned to accept an unsigned index'],
    });
  }
  const keyId = keyIdOf(trust.publicKey);
  if (signature.keyId !== keyId) {
    throw new IntegrityError('E_INDEX_WRONG_KEY', `${source}: signed by key ${signature.keyId}, the trusted key is ${keyId}`);
  }
  const ok = sha256Hex(index) === signature.indexSha256 && verify(null, index, trust.publicKey, Buffer.from(signature.signature, 'base64'));
  if (!ok) throw new IntegrityError('E_INDEX_SIGNATURE', `${source}: the signature does not match the index (tampered or corrupted)`);
  return { signed: true, keyId };
}
