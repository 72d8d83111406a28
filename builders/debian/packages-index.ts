import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { xz } from '@napi-rs/lzma';
import { z } from 'zod';
import { ArchiveError } from '../../src/errors.js';
import { fetchBuffer, isNotFound, type HttpOptions } from '../../src/http/client.js';
import { writeFileAtomically } from '../../src/util/atomic-file.js';
import { loadRelease, type TrustOptions } from './release.js';

/**
 * A suite's Packages index (dists/<suite>/main/binary-<arch>/Packages.xz,
 * deb822 stanzas, see https://wiki.debian.org/DebianRepository/Format) is
 * ~10 MB compressed and ~50 MB of text, of which kbuild needs the few dozen
 * linux-headers-* and linux-image-* stanzas. Only those are cached, as JSON.
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

const KERNEL_PACKAGE = /^Package: linux-(headers|image)-/;

/** Parses the kernel stanzas of a Packages file; stanzas lacking a usable field are skipped. */
export function parseKernelStanzas(text: string): PackageStanza[] {
  const out: PackageStanza[] = [];
  for (const block of text.split('\n\n')) {
    if (!KERNEL_PACKAGE.test(block.trimStart())) continue;
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
  readonly mirror: string;
  readonly suite: string;
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

export function indexUrl(location: IndexLocation): string {
  return `${location.mirror}/dists/${location.suite}/main/binary-${location.debArch}/Packages.xz`;
}

export function mirrorId(mirror: string): string {
  return createHash('sha256').update(mirror).digest('hex').slice(0, 16);
}

function cachePath(location: IndexLocation): string {
  return join(location.cacheDir, 'debian', 'indexes', mirrorId(location.mirror), `${location.suite}_${location.debArch}.json`);
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

type Fetched = { compressed: Buffer; trust: Trust; signedBy: readonly string[]; validUntil?: number } | { skipped: string };

async function fetchSigned(location: IndexLocation, options: IndexLoadOptions): Promise<Fetched> {
  const found = await loadRelease(location, options.http, options.trust);
  if ('skipped' in found) return found;
  options.onDownload?.(`${location.mirror}/dists/${location.suite}/InRelease`, found.bytes);
  const path = `main/binary-${location.debArch}/Packages.xz`;
  const expected = found.release.sha256.get(path);
  if (expected === undefined) return { skipped: `its signed Release lists no ${path}` };
  const canonical = indexUrl(location);
  // A by-hash path never changes content, so a mirror caught mid-sync still serves the very index this InRelease names.
  const byHash = `${location.mirror}/dists/${location.suite}/main/binary-${location.debArch}/by-hash/SHA256/${expected.sha256}`;
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
  return { compressed, trust: 'signed', signedBy: found.signers, ...(validUntil === undefined ? {} : { validUntil }) };
}

async function fetchUnsigned(location: IndexLocation, options: IndexLoadOptions): Promise<Fetched> {
  const url = indexUrl(location);
  let compressed: Buffer;
  try {
    compressed = await fetchBuffer(url, options.http);
  } catch (err) {
    if (isNotFound(err)) return { skipped: `no binary-${location.debArch} index` };
    throw err;
  }
  options.trust.warn('debian index NOT authenticated (KBUILD_DEBIAN_ALLOW_UNSIGNED)', { url });
  options.onDownload?.(url, compressed.length);
  return { compressed, trust: 'unsigned', signedBy: [] };
}

/**
 * Kernel stanzas of one suite and arch, from the cache when younger than the
 * TTL. A suite is skipped (with the reason) when the mirror has no index for
 * it, e.g. a suite moved to Debian's archive of old releases.
 */
export async function loadKernelIndex(location: IndexLocation, options: IndexLoadOptions): Promise<IndexResult> {
  const path = cachePath(location);
  const cached = options.refresh === true ? undefined : await readCached(path);
  if (usable(cached, options)) return { index: cached };
  const fetched = options.trust.allowUnsigned ? await fetchUnsigned(location, options) : await fetchSigned(location, options);
  if ('skipped' in fetched) return fetched;
  const url = indexUrl(location);
  let text: string;
  try {
    text = (await xz.decompress(fetched.compressed)).toString('utf8');
  } catch (err) {
    throw new ArchiveError(`${url} is not a valid xz file`, { cause: err });
  }
  const { trust, signedBy, validUntil } = fetched;
  const index: CachedIndex = {
    url,
    fetchedAt: Date.now(),
    trust,
    signedBy: [...signedBy],
    ...(validUntil === undefined ? {} : { validUntil }),
    packages: parseKernelStanzas(text),
  };
  await writeJsonAtomic(path, index);
  return { index };
}
