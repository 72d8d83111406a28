import assert from 'node:assert/strict';
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseIndex } from '@kbuild/loader/internal';
import { writeIndex } from '../../src/runner/write-index.js';
import { generateKeyFiles, loadSigningKey, type SigningKey } from '../../src/sign/signing-key.js';
import { FsStore } from '../../src/store/fs-store.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { indexOf, storeNonCore } from '../helpers/index-fixtures.js';

const LOCK = '.index.json.lock';

describe("the folder store's publish lock", { timeout: 2 * 60_000 }, () => {
  let work: string;
  let keys: { privateKey: string; publicKey: string };
  let signingKey: SigningKey;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-file-lock-'));
    keys = await generateKeyFiles(join(work, 'keys'));
    signingKey = await loadSigningKey(keys.privateKey);
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('an empty lock file (a full disk while it was created) is taken over within seconds, saying so', async () => {
    const out = join(work, 'empty-lock');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, LOCK), '');
    const store = new FsStore(out);
    const artifact = await storeNonCore(store, 'p', '6.1.0-50-cloud-amd64', randomBytes(64));
    const lines: string[] = [];
    const started = Date.now();
    const { fileLockFor } = await import('../../src/publish/file-lock.js');
    await writeIndex(store, indexOf([artifact]), { signingKey, lock: fileLockFor(out, { onWait: (l) => lines.push(l) }) });
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assert.match(lines.join('\n'), /taking over .*names no owner/);
    assert.equal(parseIndex(await readFile(join(out, 'index.json'), 'utf8'), 'index').artifacts.length, 1);
    await assert.rejects(stat(join(out, LOCK)), { code: 'ENOENT' }, 'released');
  });

  it('the default lock of a folder store also takes over an empty lock file', async () => {
    const out = join(work, 'empty-lock-default');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, LOCK), '');
    const store = new FsStore(out);
    const artifact = await storeNonCore(store, 'p', '6.1.0-50-cloud-amd64', randomBytes(64));
    await writeIndex(store, indexOf([artifact]), { signingKey });
    assert.equal(parseIndex(await readFile(join(out, 'index.json'), 'utf8'), 'index').artifacts.length, 1);
  });

  it('a waiting publisher says whom it waits for and stops at once on SIGTERM, publishing nothing', async () => {
    const out = join(work, 'held');
    await mkdir(out, { recursive: true });
    const owner = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await writeFile(join(out, LOCK), JSON.stringify({ pid: owner.pid, host: hostname(), at: new Date().toISOString() }));
      const publisher = execa('node', ['--import', 'tsx', join(REPO_ROOT, 'test/publish/publisher.ts'), out, '0', '1', keys.privateKey], { cwd: REPO_ROOT, reject: false, forceKillAfterDelay: false });
      let stderr = '';
      await new Promise<void>((resolve) => publisher.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/waiting for/.test(stderr)) resolve();
      }));
      assert.match(stderr, new RegExp(`waiting for \\S+${LOCK.replace('.', '\\.')}: held by pid ${owner.pid} on ${hostname()}`));
      const signalled = Date.now();
      publisher.kill('SIGTERM');
      const result = await publisher;
      assert.ok(Date.now() - signalled < 3000, `took ${Date.now() - signalled} ms to stop`);
      assert.notEqual(result.exitCode, 0);
      assert.match(String(result.stderr), /interrupted while waiting/);
      await assert.rejects(stat(join(out, 'index.json')), { code: 'ENOENT' });
    } finally {
      owner.kill('SIGKILL');
    }
  });

  it('a lock whose owner process is gone is taken over at once', async () => {
    const out = join(work, 'dead-owner');
    await mkdir(out, { recursive: true });
    const dead = await execa('sh', ['-c', 'echo $$']);
    await writeFile(join(out, LOCK), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), at: new Date().toISOString() }));
    const store = new FsStore(out);
    const artifact = await storeNonCore(store, 'p', '6.1.0-50-cloud-amd64', randomBytes(64));
    const started = Date.now();
    await writeIndex(store, indexOf([artifact]), { signingKey });
    assert.ok(Date.now() - started < 2000);
  });

  it('ENOSPC while taking the lock fails the publish naming the lock, leaves no lock, and the next publish works (tmpfs, needs root)', async (t) => {
    const mountPoint = join(work, 'tmpfs');
    await mkdir(mountPoint, { recursive: true });
    const mounted = await execa('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', mountPoint], { reject: false });
    if (mounted.exitCode !== 0) return t.skip(`cannot mount a tmpfs here: ${mounted.stderr}`);
    try {
      const out = join(mountPoint, 'store');
      const store = new FsStore(out);
      const artifact = await storeNonCore(store, 'p', '6.1.0-50-cloud-amd64', randomBytes(64));
      await execa('sh', ['-c', `cat /dev/zero > ${join(mountPoint, 'filler')}`], { reject: false });
      await assert.rejects(writeIndex(store, indexOf([artifact]), { signingKey }), (err: Error) => {
        assert.match(err.message, new RegExp(`${LOCK.replace('.', '\\.')}.*ENOSPC`));
        return true;
      });
      await assert.rejects(stat(join(out, LOCK)), { code: 'ENOENT' }, 'no empty lock left behind');
      await rm(join(mountPoint, 'filler'));
      await writeIndex(store, indexOf([artifact]), { signingKey });
      assert.equal(parseIndex(await readFile(join(out, 'index.json'), 'utf8'), 'index').artifacts.length, 1);
    } finally {
      await execa('umount', [mountPoint], { reject: false });
    }
  });
});
