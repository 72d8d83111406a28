import { join } from 'node:path';
import { findMirror } from '../../builders/debian/mirror.js';
import { trustOptions } from '../../builders/debian/trust.js';
import { extractDebPrefix } from '../archive/deb.js';
import { ensureEntry, exists } from '../cache/content-cache.js';
import { ArchiveError } from '../errors.js';
import type { HttpOptions } from '@kbuild/loader/internal';
import { compareDebianVersions, parseDebianVersion, upstreamVersion } from '../repo/apt/debian-version.js';
import { PackageNotFoundError } from '../repo/apt/errors.js';
import { fetchDeb } from '../repo/apt/header-tree.js';
import { loadPackageIndex, type PackageStanza } from '../repo/apt/packages-index.js';
import { toRef, type ResolvedPackage } from '../repo/apt/resolution.js';

/**
 * libbpf's headers (bpf_helpers.h, bpf_tracing.h, bpf_core_read.h...) at the
 * version a probe asks for, from Debian's libbpf-dev of that version: the
 * host's own (1.1 on Debian 12) lacks macros and helpers newer programs use.
 * The package is found in the signed Packages index of any suite searched and
 * checked against it; only usr/include/bpf/ is unpacked.
 */

export interface LibbpfRequest {
  /** "1:1.5.0-3" or "1.5.0-3" (a Debian version, epoch optional), or upstream "1.5.0" (its newest Debian revision). */
  readonly version: string;
  /** The target arch: headers are arch independent, so amd64's package serves every arch. */
  readonly arch?: string;
}

export interface LibbpfOptions {
  readonly cacheDir: string;
  readonly mirror?: string;
  readonly signal?: AbortSignal;
  /** Searched in order; sid is left out since an unmaintained mirror's sid Release expires (add it with ignoreValidUntil). */
  readonly suites?: readonly string[];
  readonly ignoreValidUntil?: boolean;
}

export interface LibbpfHeaders {
  /**
   * A folder holding bpf/bpf_helpers.h etc. Give it to clang as `-I <dir>`
   * (or -isystem): with `-idirafter` a host with libbpf-dev installed finds
   * its own /usr/include/bpf first and this version is silently not used.
   */
  readonly dir: string;
  readonly package: { readonly name: string; readonly version: string; readonly sha256: string; readonly suite: string };
}

export const LIBBPF_SUITES = ['bookworm', 'bookworm-backports', 'trixie', 'trixie-backports'] as const;
const PACKAGE = 'libbpf-dev';
const WANTED = /^Package: libbpf-dev\n/;
const SIX_HOURS = 6 * 60 * 60 * 1000;
// Headers are the same in every arch's package; one arch means one cached copy.
const HEADER_ARCH = 'amd64';

/** Whether a Debian version satisfies the request: exact, exact but for the epoch, or the same upstream version. */
export function libbpfVersionMatches(debianVersion: string, requested: string): boolean {
  if (debianVersion === requested) return true;
  const have = parseDebianVersion(debianVersion);
  const want = parseDebianVersion(requested);
  const withoutEpoch = debianVersion.replace(/^[0-9]+:/, '');
  if (!/:/.test(requested) && withoutEpoch === requested) return true;
  return !/-/.test(requested) && !/:/.test(requested) && have.upstream === want.upstream;
}

interface Candidate {
  readonly stanza: PackageStanza;
  readonly suite: string;
}

async function candidates(options: LibbpfOptions, mirror: string, http: HttpOptions): Promise<{ found: Candidate[]; skipped: string[] }> {
  const trust = trustOptions(options.ignoreValidUntil === true ? { ignoreValidUntil: true } : {});
  const found: Candidate[] = [];
  const skipped: string[] = [];
  for (const suite of options.suites ?? LIBBPF_SUITES) {
    const location = { cacheDir: options.cacheDir, archive: 'debian', mirror, suite, debArch: HEADER_ARCH };
    const result = await loadPackageIndex(location, { ttlMs: SIX_HOURS, http, trust }, { name: 'libbpf-dev', wanted: WANTED });
    if ('skipped' in result) skipped.push(`${suite}: ${result.skipped}`);
    else found.push(...result.index.packages.filter((p) => p.package === PACKAGE).map((stanza) => ({ stanza, suite })));
  }
  return { found, skipped };
}

/** The newest libbpf-dev matching the request in the suites searched. */
async function resolve(request: LibbpfRequest, options: LibbpfOptions, mirror: string, http: HttpOptions): Promise<ResolvedPackage> {
  const { found, skipped } = await candidates(options, mirror, http);
  const best = found
    .filter((c) => libbpfVersionMatches(c.stanza.version, request.version))
    .sort((a, b) => compareDebianVersions(b.stanza.version, a.stanza.version))[0];
  if (best !== undefined) return toRef(best.stanza, best.suite);
  const newestFirst = found.sort((a, b) => compareDebianVersions(b.stanza.version, a.stanza.version));
  const available = [...new Set(newestFirst.map((c) => `${c.stanza.version} (${c.suite})`))];
  const searched = (options.suites ?? LIBBPF_SUITES).join(', ');
  throw new PackageNotFoundError(
    `no Debian ${PACKAGE} ${request.version} in ${searched} (available: ${available.join(', ') || 'none'}` +
      `${skipped.length > 0 ? `; skipped ${skipped.join('; ')}` : ''})`,
    available,
    { suggestions: [`Ask for one of the available versions, e.g. the newest: "${upstreamVersion(newestFirst[0]?.stanza.version ?? '?')}"`] },
  );
}

export async function libbpfHeaders(request: LibbpfRequest, options: LibbpfOptions): Promise<LibbpfHeaders> {
  const mirror = (await findMirror(options.mirror === undefined ? {} : { configured: options.mirror })).url;
  const http: HttpOptions = options.signal === undefined ? {} : { signal: options.signal };
  const pkg = await resolve(request, options, mirror, http);
  const fetch = { archive: 'debian', cacheDir: options.cacheDir, mirror, http, onDownload: () => undefined };
  const entry = await ensureEntry(options.cacheDir, 'libbpf-headers', pkg.sha256, async (tmp) => {
    await extractDebPrefix(await fetchDeb(fetch, pkg), 'usr/include/bpf/', tmp);
  });
  const dir = join(entry.path, 'usr', 'include');
  if (!(await exists(join(dir, 'bpf', 'bpf_helpers.h')))) {
    throw new ArchiveError(`${PACKAGE} ${pkg.version} (${pkg.suite}) has no usr/include/bpf/bpf_helpers.h`);
  }
  return { dir, package: { name: pkg.name, version: pkg.version, sha256: pkg.sha256, suite: pkg.suite } };
}
