import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { IntegrityError, KbuildError, LoaderErrorCode } from './errors.js';

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
    throw new KbuildError(LoaderErrorCode.PUBLIC_KEY, `${source}: not a PEM public key (${(err as Error).message})`, { exitCode: 2 });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KbuildError(LoaderErrorCode.PUBLIC_KEY, `${source}: expected an ed25519 public key, got ${key.asymmetricKeyType ?? 'unknown'}`, { exitCode: 2 });
  }
  return key;
}

export function parseSignature(bytes: Buffer, source: string): IndexSignature {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new IntegrityError(LoaderErrorCode.INDEX_SIGNATURE, `${source}: the signature file is not JSON`);
  }
  const parsed = IndexSignature.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new IntegrityError(LoaderErrorCode.INDEX_SIGNATURE, `${source}: not a kbuild index signature: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
  }
  return parsed.data;
}

/** IndexTrustOptions with the key already parsed. */
export type IndexTrust = Omit<IndexTrustOptions, 'publicKey'> & { readonly publicKey?: KeyObject };

export type IndexTrustResult = { readonly signed: true; readonly keyId: string } | { readonly signed: false };

/** How far an index is trusted. Reading fails with E_NO_PUBLIC_KEY unless one of the two is given. */
export interface IndexTrustOptions {
  /** The publisher's ed25519 public key (a KeyObject, or PEM text as `kbuild keygen` writes it). */
  readonly publicKey?: KeyObject | string | Buffer;
  /** The explicit opt-out: accept an index without a signature (and do not check one without a key). */
  readonly allowUnsigned?: boolean;
}

/** A public key, or `allowUnsigned: true`: what every entry point that reads an index asks for. */
export type RequiredTrust =
  | (IndexTrustOptions & { readonly publicKey: KeyObject | string | Buffer })
  | (IndexTrustOptions & { readonly allowUnsigned: true });

/**
 * Signatures are checked by default: without a public key, only the explicit
 * opt-out lets an index through. Every entry point calls this before any I/O
 * (JavaScript callers get no type check).
 */
export function requireTrust<T extends IndexTrustOptions>(trust: T | undefined, source: string): T & RequiredTrust {
  if (trust?.publicKey !== undefined || trust?.allowUnsigned === true) return trust as T & RequiredTrust;
  throw new KbuildError(LoaderErrorCode.NO_PUBLIC_KEY, `${source}: no public key to verify the index with`, {
    exitCode: 2,
    suggestions: [
      'Pass --public-key FILE (written by `kbuild keygen`), or --allow-unsigned to trust the index as it is',
      'Library: { publicKey } (the PEM text or a KeyObject), or { allowUnsigned: true }',
    ],
  });
}

/**
 * Wrong key, bad signature and missing signature are distinct errors so an
 * operator can tell a key rotation from tampering.
 */
export function verifyIndexBytes(index: Buffer, signature: IndexSignature | undefined, trust: IndexTrust, source: string): IndexTrustResult {
  requireTrust(trust, source);
  if (trust.publicKey === undefined) return { signed: false };
  if (signature === undefined) {
    if (trust.allowUnsigned === true) return { signed: false };
    throw new IntegrityError(LoaderErrorCode.INDEX_UNSIGNED, `${source}: no signature (${source.slice(source.lastIndexOf('/') + 1)}.sig)`, {
      suggestions: ['Publish with --signing-key, or pass --allow-unsigned to accept an unsigned index'],
    });
  }
  const keyId = keyIdOf(trust.publicKey);
  if (signature.keyId !== keyId) {
    throw new IntegrityError(LoaderErrorCode.INDEX_WRONG_KEY, `${source}: signed by key ${signature.keyId}, the trusted key is ${keyId}`);
  }
  const ok = sha256Hex(index) === signature.indexSha256 && verify(null, index, trust.publicKey, Buffer.from(signature.signature, 'base64'));
  if (!ok) throw new IntegrityError(LoaderErrorCode.INDEX_SIGNATURE, `${source}: the signature does not match the index (tampered or corrupted)`);
  return { signed: true, keyId };
}
