import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parseIndex, parseSignature, publicKeyFromPem, verifyIndexBytes } from '@kbuild/loader/internal';
import type { ArtifactIndex } from '@kbuild/loader';
import { openStore } from '../../src/store/open-store.js';

/**
 * A store a fault left behind is valid and complete: index.json is signed by
 * the key at `publicKeyPath`, lists exactly `expected` (paths), and every
 * artifact it lists is stored with the size it says.
 */
export async function assertSignedAndComplete(storeUrl: string, publicKeyPath: string, env: NodeJS.ProcessEnv, expected: readonly string[]): Promise<ArtifactIndex> {
  const store = await openStore(storeUrl, { env });
  try {
    const bytes = await store.get('index.json');
    const sig = await store.get('index.json.sig');
    assert.ok(bytes !== undefined && sig !== undefined, `${storeUrl} holds index.json and index.json.sig`);
    const publicKey = publicKeyFromPem(await readFile(publicKeyPath), publicKeyPath);
    assert.equal(verifyIndexBytes(bytes, parseSignature(sig, 'sig'), { publicKey }, 'index').signed, true);
    const index = parseIndex(bytes.toString('utf8'), 'index');
    assert.deepEqual(index.artifacts.map((a) => a.path).sort(), [...expected].sort(), 'no entry lost');
    for (const artifact of index.artifacts) assert.equal((await store.stat(artifact.path))?.size, artifact.size, artifact.path);
    return index;
  } finally {
    await store.close();
  }
}
