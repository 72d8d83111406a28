import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ArtifactIndex, INDEX_SCHEMA_VERSION } from '../src/index-schema.js';
import { keyIdOf, sha256Hex } from '../src/signature.js';

/**
 * A store the loader's own tests make without the farm: one per-kernel object
 * of probe `execve`, index.json, and index.json.sig signed the way the farm
 * signs (ed25519 over the exact index bytes).
 */
export const HOST = { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64', version: '#1 SMP Debian 6.1.176-1', hasBtf: true } as const;
export const OBJECT_KEY = 'execve/x86_64/execve_debian_6.1.0-50-cloud-amd64.o';

export interface SignedStore {
  readonly dir: string;
  readonly publicKeyPem: string;
  readonly publicKey: KeyObject;
  readonly index: ArtifactIndex;
}

/** The store is written to `dir` (default: a new temporary folder). */
export async function signedStore(dir?: string): Promise<SignedStore> {
  dir ??= await mkdtemp(join(tmpdir(), 'kbuild-loader-store-'));
  const object = Buffer.from('\x7fELF not really, the loader does not look inside');
  await mkdir(dirname(join(dir, OBJECT_KEY)), { recursive: true });
  await writeFile(join(dir, OBJECT_KEY), object);
  const index = ArtifactIndex.parse({
    schemaVersion: INDEX_SCHEMA_VERSION,
    generatedAt: new Date().toISOString(),
    generator: 'loader test',
    artifacts: [{
      path: OBJECT_KEY, probe: 'execve', kind: 'non-core', arch: 'x86_64',
      kernel: { distro: 'debian', release: HOST.release, arch: 'x86_64' },
      size: object.length, sha256: sha256Hex(object), buildId: sha256Hex(Buffer.from(OBJECT_KEY)), toolchain: 'test', verification: [],
    }],
    failures: [],
  });
  const bytes = Buffer.from(`${JSON.stringify(index, null, 2)}\n`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signature = { algorithm: 'ed25519', keyId: keyIdOf(publicKey), indexSha256: createHash('sha256').update(bytes).digest('hex'), signature: sign(null, bytes, privateKey).toString('base64') };
  await writeFile(join(dir, 'index.json'), bytes);
  await writeFile(join(dir, 'index.json.sig'), JSON.stringify(signature));
  return { dir, publicKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), index };
}

/**
 * Serves `root` on 127.0.0.1 as a plain web server and, under `/<bucket>/`,
 * as a path-style S3 GetObject endpoint (the query and the request signature
 * are ignored; a missing key is a bare 404, as S3 answers HEAD).
 */
export async function serveFolder(root: string): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    stat(path).then(
      (s) => {
        if (!s.isFile()) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-length': s.size });
        createReadStream(path).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
