import assert from 'node:assert/strict';
import { execa } from 'execa';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DiskError } from '../../src/errors.js';
import { downloadToFile } from '@kbuild/loader/internal';
import { describeFailure, isRetryable } from '../../src/queue/failure.js';
import { FsStore } from '../../src/store/fs-store.js';

/** A 128 KiB tmpfs: a real full disk (needs root to mount). */
describe('a full disk (ENOSPC on a small tmpfs)', { timeout: 60_000 }, () => {
  let work: string;
  let disk: string;
  let server: Server;
  let url: string;
  let hits = 0;
  const payload = randomBytes(512 * 1024);
  let mounted = false;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-enospc-'));
    disk = join(work, 'disk');
    await mkdir(disk);
    mounted = (await execa('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', disk], { reject: false })).exitCode === 0;
    server = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-length': payload.length }).end(payload);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/linux-headers.deb`;
  });
  after(async () => {
    server?.close();
    if (mounted) await execa('umount', [disk], { reject: false });
    await rm(work, { recursive: true, force: true });
  });

  it('a download is not retried as a network error, and the error names the file', async (t) => {
    if (!mounted) return t.skip('cannot mount a tmpfs here');
    const dest = join(disk, 'debs', 'headers.deb');
    const sha256 = createHash('sha256').update(payload).digest('hex');
    await assert.rejects(downloadToFile(url, dest, { sha256, size: payload.length }, { attempts: 4, baseDelayMs: 5 }), (err: Error) => {
      assert.ok(err instanceof DiskError, `${err.name}: ${err.message}`);
      assert.equal(err.code, 'E_DISK');
      assert.match(err.message, new RegExp(`cannot write ${dest.replace(/[.]/g, '\\.')}: no space left on the device \\(ENOSPC\\)`));
      assert.equal(isRetryable(err), false);
      return true;
    });
    assert.equal(hits, 1, 'downloaded once, not retried');
    assert.deepEqual(await readdir(join(disk, 'debs')), [], 'no temporary file left');
  });

  it("the folder store's write names the key's path", async (t) => {
    if (!mounted) return t.skip('cannot mount a tmpfs here');
    const store = new FsStore(join(disk, 'store'));
    await assert.rejects(store.putBytes('execve/x86_64/execve_debian_6.1.0-50-cloud-amd64.o', payload), (err: Error) => {
      assert.ok(err instanceof DiskError, `${err.name}: ${err.message}`);
      assert.match(err.message, /store\/execve\/x86_64\/execve_debian_6\.1\.0-50-cloud-amd64\.o: no space left/);
      return true;
    });
  });

  it('a raw ENOSPC reaching the farm is E_DISK, not retried', () => {
    const raw = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    assert.equal(describeFailure(raw).code, 'E_DISK');
    assert.equal(isRetryable(raw), false);
  });
});
