import { open, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { KbuildError, LoaderErrorCode } from './errors.js';
import { publishTransfer } from './transfer-channel.js';
import { fetchBuffer, isNotFound, type HttpOptions } from './http/client.js';
import { createS3Client, isS3NotFound, loadS3Sdk, objectKey, parseS3Url, resolveS3Settings, type S3Settings } from './s3-client.js';

/**
 * Where an index and the artifacts it names are read from: a folder, an
 * http(s) base URL or an S3 prefix. Keys are relative to the index's folder,
 * exactly as they appear in the index (already checked by its schema).
 */
export interface IndexSource {
  /** Printable location of the index's folder. */
  readonly location: string;
  /** The bytes of `key`, undefined when it does not exist; refuses more than `maxBytes`. */
  read(key: string, maxBytes: number): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

export interface SourceOptions {
  readonly s3?: S3Settings;
  readonly http?: HttpOptions;
  readonly env?: NodeJS.ProcessEnv;
}

/** Raised when a source holds more bytes than the caller allowed. */
export class SizeLimitError extends KbuildError {
  constructor(what: string, maxBytes: number) {
    super(LoaderErrorCode.SIZE_LIMIT, `${what}: more than the expected ${maxBytes} bytes`);
  }
}

/** `.../index.json` names the index; anything else is the folder holding index.json. */
function splitIndexName(path: string): { folder: string; name: string } {
  const slash = path.lastIndexOf('/');
  const last = path.slice(slash + 1);
  if (last.endsWith('.json')) return { folder: path.slice(0, slash + 1), name: last };
  return { folder: path === '' || path.endsWith('/') ? path : `${path}/`, name: 'index.json' };
}

export async function openIndexSource(url: string, options: SourceOptions = {}): Promise<{ source: IndexSource; indexKey: string }> {
  if (/^https?:\/\//i.test(url)) {
    const parsed = new URL(url);
    const { folder, name } = splitIndexName(parsed.pathname);
    parsed.pathname = folder;
    parsed.search = '';
    return { source: httpSource(parsed.toString(), options.http ?? {}), indexKey: name };
  }
  if (url.startsWith('s3://')) {
    const where = parseS3Url(url);
    const { folder, name } = splitIndexName(where.prefix);
    const prefix = folder.replace(/\/$/, '');
    const client = await createS3Client(resolveS3Settings(options.s3, options.env));
    return { source: s3Source(client, { bucket: where.bucket, prefix }), indexKey: name };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://')) {
    throw new KbuildError(LoaderErrorCode.INDEX_URL, `${url}: the index must be a path, file://, http(s):// or s3:// URL`, { exitCode: 2 });
  }
  const path = resolve(url.startsWith('file://') ? fileURLToPath(url) : url);
  const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
  return { source: fileSource(isDir ? path : dirname(path)), indexKey: isDir ? 'index.json' : path.slice(dirname(path).length + 1) };
}

function httpSource(base: string, http: HttpOptions): IndexSource {
  return {
    location: base.replace(/\/$/, ''),
    async read(key, maxBytes) {
      // Each segment encoded: '+' in a release name must not reach an S3 gateway as a space.
      const url = new URL(key.split('/').map(encodeURIComponent).join('/'), base).toString();
      return fetchBuffer(url, http, { maxBytes }).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        if (err instanceof KbuildError && err.code === LoaderErrorCode.CHECKSUM) throw new SizeLimitError(url, maxBytes);
        throw err;
      });
    },
    close: async () => undefined,
  };
}

function fileSource(folder: string): IndexSource {
  return {
    location: folder,
    async read(key, maxBytes) {
      const path = join(folder, key);
      const handle = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw new KbuildError(LoaderErrorCode.INDEX_READ, `${path}: cannot read (${err.code ?? err.message})`);
      });
      if (handle === undefined) return undefined;
      try {
        if ((await handle.stat()).size > maxBytes) throw new SizeLimitError(path, maxBytes);
        return await readFile(handle);
      } finally {
        await handle.close();
      }
    },
    close: async () => undefined,
  };
}

function s3Source(client: S3Client, where: { bucket: string; prefix: string }): IndexSource {
  const location = `s3://${where.bucket}${where.prefix === '' ? '' : `/${where.prefix}`}`;
  return {
    location,
    async read(key, maxBytes) {
      const { GetObjectCommand } = await loadS3Sdk();
      let out;
      try {
        out = await client.send(new GetObjectCommand({ Bucket: where.bucket, Key: objectKey(where, key) }));
      } catch (err) {
        if (isS3NotFound(err)) return undefined;
        throw new KbuildError(LoaderErrorCode.S3, `GET ${location}/${key} failed: ${(err as Error).message}`, { cause: err, retryable: true });
      }
      if ((out.ContentLength ?? 0) > maxBytes) {
        await out.Body?.transformToWebStream().cancel().catch(() => undefined);
        throw new SizeLimitError(`${location}/${key}`, maxBytes);
      }
      const progress = { direction: 'download', target: `${location}/${key}`, ...(out.ContentLength === undefined ? {} : { total: out.ContentLength }) } as const;
      publishTransfer({ ...progress, phase: 'start', bytes: 0 });
      const bytes = Buffer.from((await out.Body?.transformToByteArray()) ?? new Uint8Array());
      publishTransfer({ ...progress, phase: 'end', bytes: bytes.length });
      return bytes;
    },
    close: async () => client.destroy(),
  };
}
