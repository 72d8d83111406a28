import { join } from 'node:path';
import { z } from 'zod';
import { findMirror } from '../../../builders/debian/mirror.js';
import { trustOptions } from '../../../builders/debian/trust.js';
import { extractDebPrefix } from '../../archive/deb.js';
import { contentKey, ensureEntry } from '../../cache/content-cache.js';
import { KernelNotFoundError } from '../../errors.js';
import { fetchDeb, withRefresh } from './header-tree.js';
import { loadPackageIndex, mirrorId, type IndexLoadOptions } from './packages-index.js';
import { remembered, Resolution, ResolvedPackage, toRef } from './resolution.js';

/**
 * A few of Debian's own packages unpacked into a private, content-addressed
 * folder (the arm64 guest loader's sysroot, the UAPI headers of CO-RE builds):
 * resolved in one suite's signed index with kbuild's apt code, remembered (so
 * what was built stays valid offline and does not move under a farm with a
 * point release), each .deb checked against the index, no dpkg involved.
 */

export interface DebianPackagesRequest {
  /** Names the cached resolution and tree, e.g. "guest-sysroot". */
  readonly purpose: string;
  readonly names: readonly string[];
  readonly suite: string;
  /** Debian's architecture name (amd64, arm64). */
  readonly debArch: string;
  /** Part of each package to unpack, e.g. "usr/". */
  readonly prefix: string;
}

export interface DebianPackagesOptions {
  readonly cacheDir: string;
  readonly mirror?: string;
  readonly signal?: AbortSignal;
}

export interface UnpackedPackages {
  /** Where `prefix` of every package was unpacked (the folder holding e.g. usr/). */
  readonly dir: string;
  readonly packages: readonly ResolvedPackage[];
}

const SIX_HOURS = 6 * 60 * 60 * 1000;
const Resolved = Resolution.extend({ packages: z.array(ResolvedPackage) });
type Resolved = z.infer<typeof Resolved>;

async function resolve(request: DebianPackagesRequest, options: DebianPackagesOptions, mirror: string, refresh: boolean): Promise<Resolved> {
  const trust = trustOptions({});
  const http = options.signal === undefined ? {} : { signal: options.signal };
  const index: IndexLoadOptions = { ttlMs: SIX_HOURS, http, trust, refresh };
  // Keyed by the names too (the remembered answer and the filtered index both): the same purpose
  // asking for other packages must not get what was kept for the old list.
  const selection = `${request.purpose}-${contentKey(...request.names).slice(0, 12)}`;
  const path = join(options.cacheDir, 'packages', `${selection}-${mirrorId(mirror)}-${request.suite}-${request.debArch}.json`);
  const wanted = new RegExp(`^Package: (${request.names.map((n) => n.replace(/[.+]/g, '\\$&')).join('|')})\\n`);
  const { value } = await remembered(path, Resolved, { allowUnsigned: trust.allowUnsigned, refresh }, async () => {
    const location = { cacheDir: options.cacheDir, archive: 'debian', mirror, suite: request.suite, debArch: request.debArch };
    const result = await loadPackageIndex(location, index, { name: selection, wanted });
    if ('skipped' in result) throw new KernelNotFoundError(`debian ${request.suite} ${request.debArch} index unusable: ${result.skipped}`);
    const packages = request.names.map((name) => {
      const stanza = result.index.packages.find((p) => p.package === name && (p.architecture === request.debArch || p.architecture === 'all'));
      if (stanza === undefined) throw new KernelNotFoundError(`debian ${request.suite} (${mirror}) lists no ${request.debArch} ${name}`);
      return toRef(stanza, request.suite);
    });
    return { release: request.suite, arch: request.debArch, mirror, trust: result.index.trust, packages };
  });
  return value;
}

export async function debianPackages(request: DebianPackagesRequest, options: DebianPackagesOptions): Promise<UnpackedPackages> {
  const mirror = await findMirror(options.mirror === undefined ? {} : { configured: options.mirror });
  return withRefresh(async (refresh) => {
    const resolved = await resolve(request, options, mirror.url, refresh);
    const fetch = {
      archive: 'debian',
      cacheDir: options.cacheDir,
      mirror: mirror.url,
      http: options.signal === undefined ? {} : { signal: options.signal },
      onDownload: () => undefined,
    };
    const key = contentKey(request.prefix, ...resolved.packages.map((p) => p.sha256));
    const entry = await ensureEntry(join(options.cacheDir, 'packages'), request.purpose, key, async (dir) => {
      for (const pkg of resolved.packages) await extractDebPrefix(await fetchDeb(fetch, pkg), request.prefix, dir);
    });
    return { dir: entry.path, packages: resolved.packages };
  });
}
