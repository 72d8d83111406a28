import { ConfigError } from '../errors.js';
import { FsStore } from './fs-store.js';
import type { ArtifactStore } from './types.js';

/** The one place a store URL becomes a backend. */
export async function openStore(url: string): Promise<ArtifactStore> {
  if (url.startsWith('s3://')) {
    throw new ConfigError(`${url}: the S3 store is not available in this version`, {
      suggestions: ['Use a folder path or file:// URL'],
    });
  }
  if (url.startsWith('file://')) return new FsStore(new URL(url).pathname);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new ConfigError(`unsupported store URL scheme: ${url}`);
  return new FsStore(url);
}
