import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { xz } from '@napi-rs/lzma';
import { ArchiveError } from '../../errors.js';
import { fetchBuffer, isNotFound, type HttpOptions } from '@kbuild/loader/internal';
import { loadRelease, type TrustOptions } from './release.js';
import { selectStanzas } from './select-stanzas.js';

const gunzipAsync = promisify(gunzip);

/**
 * Fetches one index file of a suite (main/binary-amd64/Packages,
 * main/source/Sources) checked against the signed InRelease: Packages and
 * Sources indexes are read the same way, so both go through here.
 */

export interface IndexFileLocation {
  readonly mirror: string;
  readonly suite: string;
  /** Folder under dists/<suite>/, e.g. "main/binary-amd64" or "main/source". */
  readonly dir: string;
  /** "Packages" or "Sources"; .xz is preferred, .gz taken when only it is listed (older Ubuntu series). */
  readonly base: string;
  /** "debian", "ubuntu": for messages. */
  readonly archive: string;
}

export interface IndexFileOptions {
  readonly http: HttpOptions;
  /** Keep only the stanzas this matches (at their start): the index is then never held whole as text. */
  readonly wanted?: RegExp;
  readonly trust: TrustOptions;
  readonly onDownload?: (url: string, bytes: number) => void;
}

export type FetchedIndexFile =
  | { readonly text: string; readonly url: string; readonly trust: 'signed' | 'unsigned'; readonly signedBy: readonly string[]; readonly validUntil?: number }
  | { readonly skipped: string };

const SUFFIXES = ['.xz', '.gz'] as const;
type Suffix = (typeof SUFFIXES)[number];

export function indexFileUrl(location: IndexFileLocation, suffix: Suffix = '.xz'): string {
  return `${location.mirror}/dists/${location.suite}/${location.dir}/${location.base}${suffix}`;
}

async function decompressIndex(compressed: Buffer, suffix: Suffix, url: string, wanted?: RegExp): Promise<string> {
  try {
    if (wanted !== undefined) return await selectStanzas(compressed, suffix, wanted);
    const raw = suffix === '.xz' ? await xz.decompress(compressed) : await gunzipAsync(compressed);
    return raw.toString('utf8');
  } catch (err) {
    throw new ArchiveError(`${url} is not a valid ${suffix === '.xz' ? 'xz' : 'gzip'} file`, { cause: err });
  }
}

async function fetchSigned(location: IndexFileLocation, options: IndexFileOptions): Promise<FetchedIndexFile> {
  const found = await loadRelease(location, options.http, options.trust);
  if ('skipped' in found) return found;
  const { mirror, suite, dir, base } = location;
  options.onDownload?.(`${mirror}/dists/${suite}/InRelease`, found.bytes);
  const suffix = SUFFIXES.find((s) => found.release.sha256.has(`${dir}/${base}${s}`));
  const expected = suffix === undefined ? undefined : found.release.sha256.get(`${dir}/${base}${suffix}`);
  if (suffix === undefined || expected === undefined) return { skipped: `its signed Release lists no ${dir}/${base}.xz` };
  const canonical = indexFileUrl(location, suffix);
  // A by-hash path never changes content, so a mirror caught mid-sync still serves the very index this InRelease names.
  const byHash = `${mirror}/dists/${suite}/${dir}/by-hash/SHA256/${expected.sha256}`;
  let compressed: Buffer | undefined;
  let url = byHash;
  if (found.release.acquireByHash) {
    compressed = await fetchBuffer(byHash, options.http, { expected }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
  }
  if (compressed === undefined) {
    url = canonical;
    compressed = await fetchBuffer(canonical, options.http, { expected });
  }
  options.onDownload?.(url, compressed.length);
  const { validUntil } = found.release;
  const text = await decompressIndex(compressed, suffix, canonical, options.wanted);
  return { text, url: canonical, trust: 'signed', signedBy: found.signers, ...(validUntil === undefined ? {} : { validUntil }) };
}

async function fetchUnsigned(location: IndexFileLocation, options: IndexFileOptions): Promise<FetchedIndexFile> {
  for (const suffix of SUFFIXES) {
    const url = indexFileUrl(location, suffix);
    let compressed: Buffer;
    try {
      compressed = await fetchBuffer(url, options.http);
    } catch (err) {
      if (isNotFound(err)) continue;
      throw err;
    }
    const { archive } = location;
    options.trust.warn(`${archive} index NOT authenticated (KBUILD_${archive.toUpperCase()}_ALLOW_UNSIGNED)`, { url });
    options.onDownload?.(url, compressed.length);
    return { text: await decompressIndex(compressed, suffix, url, options.wanted), url, trust: 'unsigned', signedBy: [] };
  }
  return { skipped: `no ${location.dir}/${location.base} index` };
}

/** The index's text, or why the suite has none that can be used (no InRelease, expired, not listed). */
export async function fetchIndexFile(location: IndexFileLocation, options: IndexFileOptions): Promise<FetchedIndexFile> {
  return options.trust.allowUnsigned ? fetchUnsigned(location, options) : fetchSigned(location, options);
}
