import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChecksumError, NetworkError } from '../src/errors.js';
import { downloadToFile, fetchBuffer, HttpStatusError, type HttpOptions } from '../src/http/client.js';

const fast: HttpOptions = { attempts: 3, baseDelayMs: 5, timeoutMs: 2_000 };
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('http client', () => {
  const payload = Buffer.from('kernel headers '.repeat(5000));
  const hits = new Map<string, number>();
  let base = '';
  let server: Server;
  let dir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kbuild-http-'));
    ({ server, url: base } = await listen((req, res) => {
      const path = req.url ?? '/';
      const count = (hits.get(path) ?? 0) + 1;
      hits.set(path, count);
      if (path === '/flaky' && count < 3) return void res.writeHead(503).end('busy');
      if (path === '/always-500') return void res.writeHead(500).end();
      if (path === '/missing') return void res.writeHead(404).end();
      if (path.endsWith('hang')) return; // never answers
      if (path === '/reset' && count < 2) return void req.socket.destroy();
      const body = path.startsWith('/corrupt') ? Buffer.from(payload).fill(0x41, 100, 101) : payload;
      res.writeHead(200, { 'content-length': body.length }).end(body);
    }));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('retries 5xx with backoff and then succeeds', async () => {
    const retries: number[] = [];
    const body = await fetchBuffer(`${base}/flaky`, { ...fast, onRetry: (i) => retries.push(i.attempt) });
    assert.deepEqual(body, payload);
    assert.equal(hits.get('/flaky'), 3);
    assert.deepEqual(retries, [1, 2]);
  });

  it('retries a dropped connection', async () => {
    assert.deepEqual(await fetchBuffer(`${base}/reset`, fast), payload);
    assert.equal(hits.get('/reset'), 2);
  });

  it('gives up with NetworkError when 5xx persist', async () => {
    await assert.rejects(fetchBuffer(`${base}/always-500`, fast), (err: unknown) => {
      assert.ok(err instanceof NetworkError);
      assert.match(err.message, /always-500 failed after 3 attempts: .*500/);
      return true;
    });
    assert.equal(hits.get('/always-500'), 3);
  });

  it('never retries a 404', async () => {
    await assert.rejects(fetchBuffer(`${base}/missing`, fast), (err: unknown) => {
      assert.ok(err instanceof HttpStatusError);
      assert.equal(err.status, 404);
      assert.equal(err.retryable, false);
      return true;
    });
    assert.equal(hits.get('/missing'), 1);
  });

  it('times out a silent server, retrying each time', async () => {
    const started = Date.now();
    await assert.rejects(fetchBuffer(`${base}/hang`, { attempts: 2, baseDelayMs: 1, timeoutMs: 150 }), NetworkError);
    assert.equal(hits.get('/hang'), 2);
    assert.ok(Date.now() - started < 2_000);
  });

  it('reports a refused connection as NetworkError', async () => {
    const closed = await listen(() => undefined);
    await new Promise((resolve) => closed.server.close(resolve));
    await assert.rejects(fetchBuffer(`${closed.url}/x`, { attempts: 2, baseDelayMs: 1 }), NetworkError);
  });

  it('stops at once when the caller aborts, without retrying', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 100);
    await assert.rejects(fetchBuffer(`${base}/abort-me-hang`, { ...fast, signal: controller.signal }), /shutting down/);
    assert.equal(hits.get('/abort-me-hang'), 1);
  });

  it('checks an in-memory body against the expected size and sha256', async () => {
    const expected = { sha256: sha256(payload), size: payload.length };
    assert.deepEqual(await fetchBuffer(`${base}/good`, fast, { expected }), payload);
    await assert.rejects(fetchBuffer(`${base}/corrupt-in-memory`, fast, { expected }), (err: unknown) => {
      assert.ok(err instanceof ChecksumError);
      assert.match(err.message, new RegExp(`/corrupt-in-memory: sha256 mismatch, expected ${sha256(payload)}, actual [0-9a-f]{64}$`));
      return true;
    });
    assert.equal(hits.get('/corrupt-in-memory'), 1, 'a checksum mismatch is not retried');
  });

  it('stops reading a body larger than allowed', async () => {
    await assert.rejects(fetchBuffer(`${base}/good`, fast, { maxBytes: 1000 }), /expected at most 1000 bytes, received more/);
    const expected = { sha256: sha256(payload), size: payload.length - 1 };
    await assert.rejects(fetchBuffer(`${base}/good`, fast, { expected }), ChecksumError);
    assert.deepEqual(await fetchBuffer(`${base}/good`, fast, { maxBytes: payload.length }), payload);
  });

  it('downloads to a file after checking size and sha256', async () => {
    const dest = join(dir, 'good.deb');
    await downloadToFile(`${base}/good`, dest, { sha256: sha256(payload), size: payload.length }, fast);
    assert.deepEqual(await readFile(dest), payload);
    assert.deepEqual(await readdir(dir), ['good.deb']);
  });

  it('rejects a corrupted byte with ChecksumError and leaves no file', async () => {
    const dest = join(dir, 'bad.deb');
    await assert.rejects(
      downloadToFile(`${base}/corrupt`, dest, { sha256: sha256(payload), size: payload.length }, fast),
      (err: unknown) => {
        assert.ok(err instanceof ChecksumError);
        assert.ok(err.message.includes(`${base}/corrupt`));
        assert.ok(err.message.includes(`expected ${sha256(payload)}`));
        assert.match(err.message, /actual [0-9a-f]{64}/);
        return true;
      },
    );
    assert.equal(hits.get('/corrupt'), 1, 'a checksum mismatch is not retried');
    assert.deepEqual((await readdir(dir)).sort(), ['good.deb']);
  });

  it('rejects a size mismatch before hashing it all', async () => {
    const dest = join(dir, 'short.deb');
    await assert.rejects(downloadToFile(`${base}/good`, dest, { sha256: sha256(payload), size: 10 }, fast), /expected 10 bytes/);
    assert.deepEqual((await readdir(dir)).sort(), ['good.deb']);
  });
});
