import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ArchiveError } from '../../errors.js';
import { fetchBuffer, isNotFound, type HttpOptions } from '@kbuild/loader/internal';
import { mirrorId, writeJsonAtomic } from '../apt/packages-index.js';
import { decompressMetadata, parsePrimary, parseRepomd, RpmEntry } from './metadata.js';

/**
 * One rpm-md repository's kernel-devel entries, cached as JSON for a while:
 * repomd.xml → primary (checked against repomd's sha256 and size) → entries.
 * A repository URL may also be a mirror.list (Amazon Linux), whose first
 * http(s) line is the repository's real base URL.
 */

const CachedRepo = z.object({ url: z.string(), base: z.string(), fetchedAt: z.number(), entries: z.array(RpmEntry) });
type CachedRepo = z.infer<typeof CachedRepo>;

export interface RepoLoadOptions {
  readonly cacheDir: string;
  readonly distro: string;
  readonly names: ReadonlySet<string>;
  readonly ttlMs: number;
  readonly http: HttpOptions;
  readonly refresh?: boolean;
  readonly onDownload?: (url: string, bytes: number) => void;
}

export type RepoResult = { readonly base: string; readonly entries: readonly RpmEntry[] } | { readonly skipped: string };

const MAX_REPOMD = 4 * 1024 * 1024;
const MAX_PRIMARY = 512 * 1024 * 1024;

async function resolveBase(url: string, options: RepoLoadOptions): Promise<string> {
  if (!url.endsWith('/mirror.list')) return url;
  const list = (await fetchBuffer(url, options.http, { maxBytes: 64 * 1024 })).toString('utf8');
  options.onDownload?.(url, list.length);
  const base = list.split('\n').map((l) => l.trim()).find((l) => /^https?:\/\/[^\s]+$/.test(l));
  if (base === undefined) throw new ArchiveError(`${url}: names no http(s) repository`);
  return base.replace(/\/+$/, '');
}

async function fetchRepo(url: string, options: RepoLoadOptions): Promise<CachedRepo> {
  const base = await resolveBase(url, options);
  const repomdUrl = `${base}/repodata/repomd.xml`;
  const repomd = await fetchBuffer(repomdUrl, options.http, { maxBytes: MAX_REPOMD });
  options.onDownload?.(repomdUrl, repomd.length);
  const primary = parseRepomd(repomd.toString('utf8'), repomdUrl);
  const primaryUrl = `${base}/${primary.href}`;
  const expected = { sha256: primary.sha256, ...(primary.size === undefined ? {} : { size: primary.size }) };
  const bytes = await fetchBuffer(primaryUrl, options.http, { expected, maxBytes: MAX_PRIMARY });
  options.onDownload?.(primaryUrl, bytes.length);
  const entries = parsePrimary(await decompressMetadata(bytes, primary.href), options.names, primaryUrl);
  return { url, base, fetchedAt: Date.now(), entries };
}

export async function loadRepo(url: string, options: RepoLoadOptions): Promise<RepoResult> {
  const path = join(options.cacheDir, options.distro, 'repos', `${mirrorId(url)}.json`);
  if (options.refresh !== true) {
    const cached = await readFile(path, 'utf8').then((t) => CachedRepo.safeParse(JSON.parse(t)), () => undefined).catch(() => undefined);
    if (cached?.success === true && Date.now() - cached.data.fetchedAt < options.ttlMs) return cached.data;
  }
  let repo: CachedRepo;
  try {
    repo = await fetchRepo(url, options);
  } catch (err) {
    if (isNotFound(err)) return { skipped: 'no such repository on the mirror' };
    throw err;
  }
  await writeJsonAtomic(path, repo);
  return repo;
}
