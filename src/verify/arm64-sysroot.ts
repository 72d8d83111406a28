import { join } from 'node:path';
import { z } from 'zod';
import { findMirror } from '../../builders/debian/mirror.js';
import { trustOptions } from '../../builders/debian/trust.js';
import { extractDebPrefix } from '../archive/deb.js';
import { contentKey, ensureEntry } from '../cache/content-cache.js';
import { KernelNotFoundError } from '../errors.js';
import { mirrorId, loadPackageIndex, type IndexLoadOptions } from '../repo/apt/packages-index.js';
import { fetchDeb, withRefresh } from '../repo/apt/header-tree.js';
import { remembered, Resolution, ResolvedPackage, toRef } from '../repo/apt/resolution.js';

/**
 * The static libraries the arm64 guest loader links (libbpf and what its .a
 * needs), from Debian's own arm64 packages: fetched with kbuild's apt code
 * (checked against the signed archive index, from the host's mirror, as the
 * Debian builder fetches kernels) and unpacked into a private folder, so
 * the host needs no dpkg multiarch. The packages are those of the suite the
 * cross toolchain (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross) comes from.
 */

export interface SysrootOptions {
  readonly cacheDir: string;
  readonly mirror?: string;
  readonly signal?: AbortSignal;
}

export interface Sysroot {
  /** Compiler flags: include and library folders. */
  readonly flags: readonly string[];
  /** Name, version and sha256 of each package: part of the guest loader's cache key. */
  readonly identity: readonly string[];
}

export const SYSROOT_SUITE = 'bookworm';
export const SYSROOT_PACKAGES = ['libbpf-dev', 'libelf-dev', 'zlib1g-dev', 'libzstd-dev'] as const;
const WANTED = new RegExp(`^Package: (${SYSROOT_PACKAGES.join('|')})\\n`);
const TRIPLET = 'aarch64-linux-gnu';
const SIX_HOURS = 6 * 60 * 60 * 1000;

const SysrootResolution = Resolution.extend({ packages: z.array(ResolvedPackage) });
type SysrootResolution = z.infer<typeof SysrootResolution>;

/**
 * The packages are resolved once and remembered (as the Debian builder
 * remembers kernels), so a built guest loader stays valid offline and does
 * not change under a farm when the suite gets a point release.
 */
async function resolve(options: SysrootOptions, mirror: string, refresh: boolean): Promise<SysrootResolution> {
  const trust = trustOptions({});
  const http = options.signal === undefined ? {} : { signal: options.signal };
  const index: IndexLoadOptions = { ttlMs: SIX_HOURS, http, trust, refresh };
  const path = join(options.cacheDir, 'verify', 'sysroot', `${mirrorId(mirror)}-${SYSROOT_SUITE}-arm64.json`);
  const { value } = await remembered(path, SysrootResolution, { allowUnsigned: trust.allowUnsigned, refresh }, async () => {
    const location = { cacheDir: options.cacheDir, archive: 'debian', mirror, suite: SYSROOT_SUITE, debArch: 'arm64' };
    const result = await loadPackageIndex(location, index, { name: 'guest-sysroot', wanted: WANTED });
    if ('skipped' in result) throw new KernelNotFoundError(`debian ${SYSROOT_SUITE} arm64 index unusable: ${result.skipped}`);
    const packages = SYSROOT_PACKAGES.map((name) => {
      const stanza = result.index.packages.find((p) => p.package === name && p.architecture === 'arm64');
      if (stanza === undefined) throw new KernelNotFoundError(`debian ${SYSROOT_SUITE} (${mirror}) lists no arm64 ${name}`);
      return toRef(stanza, SYSROOT_SUITE);
    });
    return { release: SYSROOT_SUITE, arch: 'arm64', mirror, trust: result.index.trust, packages };
  });
  return value;
}

export async function arm64Sysroot(options: SysrootOptions): Promise<Sysroot> {
  const mirror = await findMirror(options.mirror === undefined ? {} : { configured: options.mirror });
  return withRefresh(async (refresh) => {
    const resolved = await resolve(options, mirror.url, refresh);
    const fetch = {
      archive: 'debian',
      cacheDir: options.cacheDir,
      mirror: mirror.url,
      http: options.signal === undefined ? {} : { signal: options.signal },
      onDownload: () => undefined,
    };
    const key = contentKey(...resolved.packages.map((p) => p.sha256));
    const entry = await ensureEntry(join(options.cacheDir, 'verify'), 'sysroot-arm64', key, async (dir) => {
      for (const pkg of resolved.packages) await extractDebPrefix(await fetchDeb(fetch, pkg), 'usr/', dir);
    });
    const usr = join(entry.path, 'usr');
    return {
      flags: [`-I${join(usr, 'include')}`, `-I${join(usr, 'include', TRIPLET)}`, `-L${join(usr, 'lib', TRIPLET)}`],
      identity: resolved.packages.map((p) => `${p.name} ${p.version} ${p.sha256}`),
    };
  });
}
