import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

/** A folder served read-only on 127.0.0.1 that counts what clients download. */
export interface CountingServer {
  readonly url: string;
  readonly requests: string[];
  bytes: number;
  close(): Promise<void>;
}

export async function serveCounting(root: string): Promise<CountingServer> {
  const counted = { requests: [] as string[], bytes: 0 };
  const server: Server = createServer((req, res) => {
    const rel = normalize(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')).replace(/^\/+/, '');
    if (rel.startsWith('..')) {
      res.writeHead(400).end();
      return;
    }
    const file = join(root, rel);
    stat(file).then((s) => {
      if (!s.isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-length': s.size });
      if (req.method === 'HEAD') return res.end();
      counted.requests.push(`/${rel}`);
      counted.bytes += s.size;
      createReadStream(file).pipe(res);
    }).catch(() => res.writeHead(404).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(counted, {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}
