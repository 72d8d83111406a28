import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';

export interface ServedRequest {
  readonly key: string;
  /** Bytes of the body sent; 0 for a 404. */
  readonly bytes: number;
}

/** Serves a folder on 127.0.0.1 and notes every request and the bytes it sent: what an agent really downloaded. */
export async function countingServer(root: string): Promise<{ url: string; requests: ServedRequest[]; close: () => Promise<void> }> {
  const requests: ServedRequest[] = [];
  const server = createServer((req, res) => {
    const key = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
    stat(join(root, key)).then(
      (s) => {
        if (!s.isFile()) throw new Error('not a file');
        requests.push({ key, bytes: s.size });
        res.writeHead(200, { 'content-length': s.size });
        createReadStream(join(root, key)).pipe(res);
      },
    ).catch(() => {
      requests.push({ key, bytes: 0 });
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);
  return { url: `http://127.0.0.1:${address.port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
