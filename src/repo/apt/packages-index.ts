import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { xz } from '@napi-rs/lzma';
import { z } from 'zod';
import { ArchiveError } from '../../errors.js';
import { fetchBuffer, isNotFound, type HttpOptions } from '../../http/client.js';
import { writeFileAtomically } from '../../util/atomic-file.js';
import { loadRelease, type TrustOptions } from './release.js';

const gunzipAsync = promisify(gunzip);

/**
 * A suite's Packages index (dists/<suite>/<component>/binary-<arch>/Packages.xz
 * or .gz, deb822 stanzas, see https://wiki.debian.org/DebianRepository/Format)
 * is ~10 MB compressed and ~50 MB of text, of which kbuild needs the few dozen
 * kernel header and image stanzas. Only those are cached, as JSON. Debian and
 * Ubuntu archives share this format; `archive` names whose it is.
 */

export const PackageStanza = z.object({
  package: z.string(),
  version: z.string(),
  architecture: z.string(),
  depends: z.string().optional(),
  // Pool paths only: a hostile index must not make us fetch "../" or another host.
  filename: z.string().regex(/^pool\/[A-Za-z0-9+_.~/-]+\.deb$/).refine((f) => !f.split('/').includes('..')),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type PackageStanza = z.infer<typeof PackageStanza>;

/** "signed": checked against a verified InRelease; "unsigned": taken as served (KBUILD_DEBIAN_ALLOW_UNSIGNED). */
export const Trust = z.enum(['signed', 'unsigned']);
export type Trust = z.infer<typeof Trust>;

export const CachedIndex = z.object({
  url: z.string(),
  fetchedAt: z.number(),
  trust: Trust,
  /** Fingerprints of the keys whose signatures on the InRelease were good. */
  signedBy: z.array(z.string()),
  validUntil: z.number().optional(),
  packages: z.array(PackageStanza),
});
export type CachedIndex = z.infer<typeof CachedIndex>;

/** linux-headers-*, linux-image-* and Ubuntu's per-source linux-<source>-headers-* (linux-aws-headers-5.15.0-1050). */
const KERNEL_PACKAGE = /^Package: linux-(?:[a-z0-9.+-]+-)?(headers|image)-/;

/** Parses the kernel stanzas of a Packages file; stanzas lacking a usable field are skipped. */
export function parseKernelStanzas(text: string): PackageStanza[] {
  return parseStanzas(text, KERNEL_PACKAGE);
}

/**
 * Which stanzas of an index are kept: `wanted` is matched against the start
 * of each stanza ("Package: <name>"); `name` tells the cached copies apart
 * (empty for the kernel packages every builder reads).
 */
export interface StanzaSelection {
  readonly name: string;
  readonly wanted: RegExp;
}

export const KERNEL_SELECTION: StanzaSelection = { name: '', wanted: KERNEL_PACKAGE };

/** Parses the stanzas `wanted` matches; stanzas lacking a usable field are skipped. */
export function parseStanzas(text: string, wanted: RegExp): PackageStanza[] {
  const out: PackageStanza[] = [];
  for (const block of text.split('\n\n')) {
    if (!wanted.test(block.trimStart())) continue;
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const match = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (match?.[1] !== undefined) fields.set(match[1].toLowerCase(), match[2] ?? '');
    }
    const parsed = PackageStanza.safeParse({
      package: fields.get('package'),
      version: fields.get('version'),
      architecture: fields.get('architecture'),
      ...(fields.has('depends') ? { depends: fields.get('depends') } : {}),
      filename: fields.get('filename'),
      size: Number(fields.get('size')),
      sha256: fields.get('sha256')?.toLowerCase(),
    });
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

export interface Dependency {
  readonly name: string;
  readonly relation?: string;
  readonly version?: string;
}

/** "a (= 1), b | c (>= 2)" → [[a =1], [b, c >=2]]: each group lists alternatives. */
export function parseDepends(depends: string): Dependency[][] {
  return depends
    .split(',')
    .map((group) =>
      group
        .split('|')
        .map((alt) => /^\s*([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9-]+)?\s*(?:\(\s*(<<|<=|=|>=|>>)\s*([^)\s]+)\s*\))?/.exec(alt))
        .filter((m): m is RegExpExecArray => m?.[1] !== undefined)
        .map((m) => ({ name: m[1] ?? '', ...(m[2] === undefined ? {} : { relation: m[2], version: m[3] ?? '' }) })),
    )
    .filter((group) => group.length > 0);
}

export interface IndexLocation {
  readonly cacheDir: string;
  /** "debian", "ubuntu": names the cache folder and the messages. */
  readonly archive: string;
  readonly mirror: string;
  readonly suite: string;
  /** "main" unless said otherwise. */
  readonly component?: string;
  readonly debArch: string;
}

export interface IndexLoadOptions {
  readonly ttlMs: number;
  readonly http: HttpOptions;
  /** Ignore a cached copy however fresh (after the mirror dropped a package we resolved). */
  readonly refresh?: boolean;
  readonly trust: TrustOptions;
  readonly onDownload?: (url: string, bytes: number) => void;
}

/** An index, or why the suite has none that can be used. */
export type IndexResult = { readonly index: CachedIndex } | { readonly skipped: string };

/** Index files in order of preference: Debian publishes .xz; older Ubuntu series only .gz beside it. */
const INDEX_FILES = ['Packages.xz', 'Packages.gz'] as const;
type IndexFile = (typeof INDEX_FILES)[number];

function indexDir(location: IndexLocation): string {
  return `${location.component ?? 'main'}/binary-${location.debArch}`;
}

export function indexUrl(location: IndexLocation, file: IndexFile = 'Packages.xz'): string {
  return `${location.mirror}/dists/${location.suite}/${indexDir(location)}/${file}`;
}

export function mirrorId(mirror: string): string {
  return createHash('sha256').update(mirror).digest('hex').slice(0, 16);
}

function cachePath(location: IndexLocation, selection: StanzaSelection): string {
  const component = location.component === undefined || location.component === 'main' ? '' : `_${location.component}`;
  const selected = selection.name === '' ? '' : `_${selection.name}`;
  return join(location.cacheDir, location.archive, 'indexes', mirrorId(location.mirror), `${location.suite}${component}_${location.debArch}${selected}.json`);
}

async function readCached(path: string): Promise<CachedIndex | undefined> {
  try {
    return CachedIndex.parse(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    return undefined;
  }
}

/** Writes JSON to a temporary name and renames it, so readers never see half a file. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomically(path, `${JSON.stringify(value, null, 1)}\n`);
}

function usable(cached: CachedIndex | undefined, options: IndexLoadOptions): cached is CachedIndex {
  if (cached === undefined || Date.now() - cached.fetchedAt >= options.ttlMs) return false;
  // An index cached by an unsigned run must not satisfy a run that verifies.
  if (cached.trust !== 'signed' && !options.trust.allowUnsigned) return false;
  return !(options.trust.checkValidUntil && cached.validUntil !== undefined && Date.now() >= cached.validUntil);
}

type Fetched = { compressed: Buffer; file: IndexFile; trust: Trust; signedBy: readonly string[]; validUntil?: number } | { skipped: string };

async function fetchSigned(location: IndexLocation, options: IndexLoadOptions): Promise<Fetched> {
  const found = await loadRelease(location, options.http, options.trust);
  if ('skipped' in found) return found;
  options.onDownload?.(`${location.mirror}/dists/${location.suite}/InRelease`, found.bytes);
  const file = INDEX_FILES.find((f) => found.release.sha256.has(`${indexDir(location)}/${f}`));
  const expected = file === undefined ? undefined : found.release.sha256.get(`${indexDir(location)}/${file}`);
  if (file === undefined || expected === undefined) return { skipped: `its signed Release lists no ${indexDir(location)}/Packages.xz` };
  const canonical = indexUrl(location, file);
  // A by-hash path never changes content, so a mirror caught mid-sync still serves the very index this InRelease names.
  const byHash = `${location.mirror}/dists/${location.suite}/${indexDir(location)}/by-hash/SHA256/${expected.sha256}`;
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
  return { compressed, file, trust: 'signed', signedBy: found.signers, ...(validUntil === undefined ? {} : { validUntil }) };
}

async function fetchUnsigned(location: IndexLocation, options: IndexLoadOptions): Promise<Fetched> {
  for (const file of INDEX_FILES) {
    const url = indexUrl(location, file);
    let compressed: Buffer;
    try {
      compressed = await fetchBuffer(url, options.http);
    } catch (err) {
      if (isNotFound(err)) continue;
      throw err;
    }
    const archive = location.archive;
    options.trust.warn(`${archive} index NOT authenticated (KBUILD_${archive.toUpperCase()}_ALLOW_UNSIGNED)`, { url });
    options.onDownload?.(url, compressed.length);
    return { compressed, file, trust: 'unsigned', signedBy: [] };
  }
  return { skipped: `no binary-${location.debArch} index` };
}

async function decompressIndex(compressed: Buffer, file: IndexFile, url: string): Promise<string> {
  try {
    const raw = file === 'Packages.xz' ? await xz.decompress(compressed) : await gunzipAsync(compressed);
    return raw.toString('utf8');
  } catch (err) {
    throw new ArchiveError(`${url} is not a valid ${file === 'Packages.xz' ? 'xz' : 'gzip'} file`, { cause: err });
  }
}

/**
 * Kernel stanzas of one suite and arch, from the cache when younger than the
 * TTL. A suite is skipped (with the reason) when the mirror has no index for
 * it, e.g. a suite moved to Debian's archive of old releases.
 */
export async function loadKernelIndex(location: IndexLocation, options: IndexLoadOptions): Promise<IndexResult> {
  return loadPackageIndex(location, options, KERNEL_SELECTION);
}

/** The same for any selection of packages (e.g. the libraries of the arm64 guest loader's sysroot). */
export async function loadPackageIndex(location: IndexLocation, options: IndexLoadOptions, selection: StanzaSelection): Promise<IndexResult> {
  const path = cachePath(location, selection);
  const cached = options.refresh === true ? undefined : await readCached(path);
  if (usable(cached, options)) return { index: cached };
  const fetched = options.trust.allowUnsigned ? await fetchUnsigned(location, options) : await fetchSigned(location, options);
  if ('skipped' in fetched) return fetched;
  const url = indexUrl(location, fetched.file);
  const text = await decompressIndex(fetched.compressed, fetched.file, url);
  const { trust, signedBy, validUntil } = fetched;
  const index: CachedIndex = {
    url,
    fetchedAt: Date.now(),
    trust,
    signedBy: [...signedBy],
    ...(validUntil === undefined ? {} : { validUntil }),
    packages: parseStanzas(text, selection.wanted),
  };
  await writeJsonAtomic(path, index);
  return { index };
}
