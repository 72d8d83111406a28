import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseSignature, publicKeyFromPem, verifyIndexBytes } from '@kbuild/loader/internal';
import { generateKeyFiles, loadSigningKey, signIndexBytes } from '../../src/sign/signing-key.js';

describe('ed25519 index signing', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-keys-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('keygen writes a private key only its owner reads, and never overwrites a pair', async () => {
    const keys = await generateKeyFiles(join(work, 'a'));
    assert.equal((await stat(keys.privateKey)).mode & 0o777, 0o600);
    assert.match(await readFile(keys.publicKey, 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    await assert.rejects(generateKeyFiles(join(work, 'a')), { code: 'E_KEY_EXISTS' });
  });

  it('a signature verifies over the exact bytes only', async () => {
    const keys = await generateKeyFiles(join(work, 'b'));
    const key = await loadSigningKey(keys.privateKey);
    const publicKey = publicKeyFromPem(await readFile(keys.publicKey), keys.publicKey);
    const bytes = Buffer.from('{"schemaVersion":1}\n');
    const sig = parseSignature(signIndexBytes(bytes, key), 'sig');
    assert.equal(sig.keyId, key.keyId);
    assert.deepEqual(verifyIndexBytes(bytes, sig, { publicKey }, 'x'), { signed: true, keyId: key.keyId });
    assert.throws(() => verifyIndexBytes(Buffer.from('{"schemaVersion":1} \n'), sig, { publicKey }, 'x'), { code: 'E_INDEX_SIGNATURE' });
    // A forged key id with a signature from another key still fails on the signature.
    const other = await loadSigningKey((await generateKeyFiles(join(work, 'c'))).privateKey);
    const forged = { ...parseSignature(signIndexBytes(bytes, other), 'sig'), keyId: key.keyId };
    assert.throws(() => verifyIndexBytes(bytes, forged, { publicKey }, 'x'), { code: 'E_INDEX_SIGNATURE' });
  });

  it('refuses keys that are not ed25519 PEM', async () => {
    await writeFile(join(work, 'junk.pem'), 'not a key');
    await assert.rejects(loadSigningKey(join(work, 'junk.pem')), { code: 'E_SIGNING_KEY' });
    assert.throws(() => publicKeyFromPem('nope', 'k'), { code: 'E_PUBLIC_KEY' });
    await assert.rejects(loadSigningKey(join(work, 'missing.pem')), { code: 'E_SIGNING_KEY' });
  });
});
