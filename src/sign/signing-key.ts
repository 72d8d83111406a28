import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KbuildError } from '../errors.js';
import { keyIdOf, sha256Hex, type IndexSignature, writeAtomically, writeFileAtomically } from '@kbuild/loader/internal';

/** The publisher's side of index signing; the loader's side is src/loader/signature.ts. */
export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly keyId: string;
}

export const PRIVATE_KEY_FILE = 'kbuild-index.key';
export const PUBLIC_KEY_FILE = 'kbuild-index.pub';

/** PEM files (PKCS#8 private, SPKI public): what openssl, Go's crypto/x509 and libsodium wrappers read. */
export async function generateKeyFiles(outDir: string): Promise<{ privateKey: string; publicKey: string; keyId: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const paths = { privateKey: join(outDir, PRIVATE_KEY_FILE), publicKey: join(outDir, PUBLIC_KEY_FILE) };
  const exists = await Promise.all([readFile(paths.privateKey).then(() => true, () => false), readFile(paths.publicKey).then(() => true, () => false)]);
  if (exists.some(Boolean)) {
    throw new KbuildError('E_KEY_EXISTS', `${outDir} already holds a kbuild key pair; refusing to overwrite it`, { exitCode: 2 });
  }
  // Created 0600 before any byte is written, so the key is never readable by others.
  await writeAtomically(paths.privateKey, (tmp) => writeFile(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 }));
  await writeFileAtomically(paths.publicKey, publicKey.export({ type: 'spki', format: 'pem' }));
  return { ...paths, keyId: keyIdOf(publicKey) };
}

export async function loadSigningKey(path: string): Promise<SigningKey> {
  const pem = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new KbuildError('E_SIGNING_KEY', `${path}: cannot read the signing key (${err.code ?? err.message})`, { exitCode: 2 });
  });
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new KbuildError('E_SIGNING_KEY', `${path}: not a PEM private key (${(err as Error).message})`, { exitCode: 2 });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new KbuildError('E_SIGNING_KEY', `${path}: expected an ed25519 private key, got ${privateKey.asymmetricKeyType ?? 'unknown'}`, { exitCode: 2 });
  }
  return { privateKey, keyId: keyIdOf(createPublicKey(privateKey)) };
}

/** The bytes of index.json.sig for the exact bytes of index.json. */
export function signIndexBytes(index: Uint8Array, key: SigningKey): Buffer {
  const signature: IndexSignature = {
    algorithm: 'ed25519',
    keyId: key.keyId,
    indexSha256: sha256Hex(index),
    signature: sign(null, index, key.privateKey).toString('base64'),
  };
  return Buffer.from(`${JSON.stringify(signature, null, 2)}\n`);
}
