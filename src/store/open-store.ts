import { ConfigError } from '../errors.js';
import { parseS3Url, resolveS3Settings, S3UrlError, type S3Settings } from '@kbuild/loader/internal';
import { FsStore } from './fs-store.js';
import type { ArtifactStore } from './types.js';

export interface OpenStoreOptions {
  /** Endpoint, region, credentials from flags; the AWS_* environment fills the rest. */
  readonly s3?: S3Settings;
  readonly env?: NodeJS.ProcessEnv;
}

/** The one place a store URL becomes a backend: a folder, file:// or s3://bucket/prefix. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<ArtifactStore> {
  if (url.startsWith('s3://')) {
    let where;
    try {
      where = parseS3Url(url);
    } catch (err) {
      if (err instanceof S3UrlError) throw new ConfigError(err.message);
      throw err;
    }
    // The SDK stays unloaded unless an s3:// store is used.
    const { S3Store } = await import('./s3-store.js');
    return S3Store.open(where, resolveS3Settings(options.s3, options.env));
  }
  if (url.startsWith('file://')) return new FsStore(new URL(url).pathname);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new ConfigError(`unsupported store URL scheme: ${url}`);
  return new FsStore(url);
}
