import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { type HttpOptions, writeFileAtomically } from '@kbuild/loader/internal';
import { fetchIndexFile, indexFileUrl, type IndexFileLocation } from './index-file.js';
import type { TrustOptions } from './release.js';

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

/**
 * linux-headers-*, linux-image-*, Ubuntu's per-source linux-<source>-headers-* (linux-aws-headers-5.15.0-1050)
 * and Debian's linux-binary-* (the kernel image since 7.x, when linux-image-* became a metapackage).
 */
const KERNEL_PACKAGE = /^Package: linux-(?:(?:[a-z0-9.+-]+-)?(?:headers|image)|binary)-/;

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

/** Named since linux-binary-* joined it: indexes cached before lack those stanzas. */
export const KERNEL_SELECTION: StanzaSelection = { name: 'kernels', wanted: KERNEL_PACKAGE };

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

function indexFile(location: IndexLocation): IndexFileLocation {
  const { mirror, suite, archive } = location;
  return { mirror, suite, archive, dir: `${location.component ?? 'main'}/binary-${location.debArch}`, base: 'Packages' };
}

export function indexUrl(location: IndexLocation, suffix: '.xz' | '.gz' = '.xz'): string {
  return indexFileUrl(indexFile(location), suffix);
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

/**
 * Kernel stanzas of one suite and arch, from the cache when younger than the
 * TTL. A suite is skipped (with the reason) when the mirror has no index for
 * it, e.g. a suite moved to Debian's archive of old releases.
 */
export async function loadKernelIndex(location: IndexLocation, options: IndexLoadOptions): Promise<IndexResult> {
  return loadPackageIndex(location, options, KERNEL_SELECTION);
}

/**
 * Loads of one cached index under way in this process: jobs that start
 * together (a kernel's headers and its image) share one download and one
 * parse of the ~50 MB text instead of each holding its own copy.
 */
const loading = new Map<string, Promise<IndexResult>>();

/** The same for any selection of packages (e.g. the libraries of the arm64 guest loader's sysroot). */
export async function loadPackageIndex(location: IndexLocation, options: IndexLoadOptions, selection: StanzaSelection): Promise<IndexResult> {
  const path = cachePath(location, selection);
  const { trust } = options;
  const key = JSON.stringify([path, options.refresh === true, trust.allowUnsigned, trust.checkValidUntil, trust.keyrings]);
  const pending = loading.get(key);
  if (pending !== undefined) return pending;
  const load = loadIndexAt(path, location, options, selection).finally(() => loading.delete(key));
  loading.set(key, load);
  return load;
}

async function loadIndexAt(path: string, location: IndexLocation, options: IndexLoadOptions, selection: StanzaSelection): Promise<IndexResult> {
  const cached = options.refresh === true ? undefined : await readCached(path);
  if (usable(cached, options)) return { index: cached };
  const fetched = await fetchIndexFile(indexFile(location), { ...options, wanted: selection.wanted });
  if ('skipped' in fetched) return fetched;
  const { url, text, trust, signedBy, validUntil } = fetched;
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
