import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FsStore } from '../../src/store/fs-store.js';
import { nonCoreKey } from '../../src/store/keys.js';

describe('filesystem store', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kbuild-store-'));
  after(() => rm(root, { recursive: true, force: true }));
  const store = new FsStore(root);

  it('writes, reads and stats under safe keys only', async () => {
    await store.putBytes('a/b.o', Buffer.from('hello'));
    assert.equal((await store.get('a/b.o'))?.toString(), 'hello');
    assert.deepEqual(await store.stat('a/b.o'), { size: 5 });
    assert.equal(await store.get('a/missing.o'), undefined);
    for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/./b', '']) {
      await assert.rejects(store.putBytes(key, Buffer.from('x')), /unsafe store key/, key);
    }
  });

  it('leaves no temporary file behind and keeps the old content when a write fails', async () => {
    await store.putBytes('c/d.o', Buffer.from('old'));
    await assert.rejects(store.putFile('c/d.o', join(root, 'no-such-source')));
    assert.equal((await store.get('c/d.o'))?.toString(), 'old');
    assert.deepEqual(await readdir(join(root, 'c')), ['d.o']);
  });

  it('builds artifact keys from validated parts', () => {
    assert.equal(nonCoreKey('execve', 'x86_64', 'debian', '6.1.0-50-amd64'), 'execve/x86_64/execve_debian_6.1.0-50-amd64.o');
    assert.throws(() => nonCoreKey('execve', 'x86_64', 'debian', '../../etc'), /unsafe store key/);
  });
});
