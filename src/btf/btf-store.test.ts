import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FsStore } from '../store/fs-store.js';
import { storeBtfBlob } from './btf-store.js';

describe('content-addressed BTF blobs', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kbuild-btf-store-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores identical bytes once, and writes a damaged blob of the same size again', async () => {
    const store = new FsStore(join(dir, 'store'));
    const file = join(dir, 'min.btf');
    await writeFile(file, Buffer.from('a minimized BTF, 549 bytes in real life'));
    const first = await storeBtfBlob(store, file);
    assert.equal(first.written, true);
    assert.equal((await storeBtfBlob(store, file)).written, false, 'the same bytes are not written twice');

    // Same name, same size, other bytes: the store no longer holds what the name promises.
    const onDisk = join(dir, 'store', first.path);
    const damaged = await readFile(onDisk);
    damaged[0] = (damaged[0] ?? 0) ^ 0xff;
    await writeFile(onDisk, damaged);
    const again = await storeBtfBlob(store, file);
    assert.equal(again.written, true);
    assert.deepEqual(await readFile(onDisk), await readFile(file));
  });
});
