import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileBlobs } from './file-blobs.js';

describe('file blobs', () => {
  let work = '';
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-blobs-'));
    await mkdir(join(work, 'a'));
    await mkdir(join(work, 'b'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('writes a content once and links every later copy to it', async () => {
    const blobs = new FileBlobs(join(work, 'blobs'));
    const header = Buffer.from('#define CONFIG_BPF 1\n');
    await blobs.place(join(work, 'a', 'autoconf.h'), header, false);
    await blobs.place(join(work, 'b', 'autoconf.h'), header, false);
    await blobs.place(join(work, 'b', 'other.h'), Buffer.from('#define CONFIG_BPF 0\n'), false);
    const [a, b, other] = await Promise.all(['a/autoconf.h', 'b/autoconf.h', 'b/other.h'].map((p) => stat(join(work, p))));
    assert.equal(a?.ino, b?.ino, 'one inode for one content');
    assert.notEqual(other?.ino, a?.ino);
    assert.equal(a?.nlink, 3, 'the blob and its two trees');
    assert.equal(await readFile(join(work, 'b', 'autoconf.h'), 'utf8'), '#define CONFIG_BPF 1\n');
    // Nothing half-written is left beside the blobs.
    const names = (await readdir(join(work, 'blobs'), { recursive: true })).map(String);
    assert.deepEqual(names.filter((n) => n.includes('.tmp-')), []);
  });

  it('keeps an executable copy apart, with its mode', async () => {
    const blobs = new FileBlobs(join(work, 'blobs'));
    const script = Buffer.from('#!/bin/sh\necho hi\n');
    await blobs.place(join(work, 'a', 'plain.sh'), script, false);
    await blobs.place(join(work, 'a', 'run.sh'), script, true);
    const [plain, run] = await Promise.all([stat(join(work, 'a', 'plain.sh')), stat(join(work, 'a', 'run.sh'))]);
    assert.notEqual(plain.ino, run.ino);
    assert.equal(run.mode & 0o777, 0o755);
    assert.equal(plain.mode & 0o111, 0);
  });

  it('survives two writers of the same new content at once (two workers on one cache)', async () => {
    const body = Buffer.from('struct x { int y; };\n');
    await Promise.all([
      new FileBlobs(join(work, 'blobs')).place(join(work, 'a', 'race.h'), body, false),
      new FileBlobs(join(work, 'blobs')).place(join(work, 'b', 'race.h'), body, false),
    ]);
    assert.equal(await readFile(join(work, 'a', 'race.h'), 'utf8'), body.toString());
    assert.equal(await readFile(join(work, 'b', 'race.h'), 'utf8'), body.toString());
  });

  it('makes its folders again when the blobs were removed while it ran (a cache emptied to free space)', async () => {
    const blobs = new FileBlobs(join(work, 'emptied'));
    await blobs.place(join(work, 'a', 'first.h'), Buffer.from('#define A 1\n'), false);
    await rm(join(work, 'emptied'), { recursive: true, force: true });
    await blobs.place(join(work, 'b', 'first.h'), Buffer.from('#define A 1\n'), false);
    assert.equal(await readFile(join(work, 'b', 'first.h'), 'utf8'), '#define A 1\n');
  });

  it('refuses to replace a file that is already there', async () => {
    const blobs = new FileBlobs(join(work, 'blobs'));
    await assert.rejects(blobs.place(join(work, 'a', 'autoconf.h'), Buffer.from('new'), false), { code: 'EEXIST' });
    assert.equal(await readFile(join(work, 'a', 'autoconf.h'), 'utf8'), '#define CONFIG_BPF 1\n');
  });
});
