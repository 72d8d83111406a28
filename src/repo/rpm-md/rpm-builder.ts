import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { BuilderContext, CrawledKernel, CrawlOptions, DistroBuilder, FetchedHeaders } from '../../../builders/types.js';
import { extractRpmPrefix } from '../../archive/rpm.js';
import { ensureBlob, ensureEntry, exists } from '../../cache/content-cache.js';
import { ArchiveError, ConfigError, KernelNotFoundError, NotSupportedError } from '../../errors.js';
import { downloadToFile, isNotFound, type HttpOptions } from '@kbuild/loader/internal';
import type { Arch, KernelIdentity } from '../../kernel/identity.js';
import { releaseProblem } from '../../kernel/release.js';
import { versionCodeOf } from '../../kernel/version-header.js';
import { mirrorId, writeJsonAtomic } from '../apt/packages-index.js';
import { mirrorFromSetting } from '../mirror-url.js';
import { RpmEntry } from './metadata.js';
import { loadRepo } from './repository.js';
import { parseRpmRelease, rpmArch, type RpmRelease } from './rpm-release.js';

/**
 * The one builder of every rpm-md distro: a thin spec per distro says where
 * its repositories are; finding kernel-devel-<release>, verifying it against
 * the metadata and extracting /usr/src/kernels/<release> is shared. RPM
 * kernels have one header tree (flavour and common are the same folder).
 */

export interface RpmDistroSpec {
  readonly distro: string;
  readonly covers: string;
  readonly arches: readonly Arch[];
  /** Public mirror base URLs tried in order when none is configured; empty for RHEL. */
  defaultMirrors(release: RpmRelease | undefined): readonly string[];
  /** Repository paths under a mirror base for this kernel, in search order; throws KernelNotFoundError for another distro's kernel. */
  repos(release: RpmRelease): readonly string[];
  /** Every repository path to crawl for one arch ("x86_64", "aarch64"). */
  crawlRepos(rpmArch: string): readonly string[];
}

export interface RpmBuilderOptions {
  readonly http?: HttpOptions;
  readonly env?: NodeJS.ProcessEnv;
  readonly repoTtlMs?: number;
}

const DEVEL_NAMES = new Set(['kernel-devel']);
const SIX_HOURS = 6 * 60 * 60 * 1000;

function mirrorsFor(spec: RpmDistroSpec, context: BuilderContext, options: RpmBuilderOptions, release: RpmRelease | undefined): string[] {
  const env = options.env ?? process.env;
  const fromEnv = env[`KBUILD_${spec.distro.toUpperCase()}_MIRROR`];
  const configured = (context.mirror ?? '') !== '' || (fromEnv ?? '') !== '';
  if (configured) return [mirrorFromSetting(spec.distro, context.mirror, fromEnv, undefined)];
  const defaults = spec.defaultMirrors(release);
  if (defaults.length === 0) mirrorFromSetting(spec.distro, undefined, undefined, undefined);
  return defaults.map((d) => mirrorFromSetting(spec.distro, undefined, undefined, d));
}

const Found = z.object({ release: z.string(), entry: RpmEntry, base: z.string() });
type Found = z.infer<typeof Found>;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The repository and entry a kernel resolved to, remembered: a package's
 * location and checksum never change, so a kernel fetched once needs no
 * metadata again (a 404 on the package forces a fresh look).
 */
async function remembered(spec: RpmDistroSpec, kernel: KernelIdentity, context: BuilderContext, options: RpmBuilderOptions, refresh: boolean): Promise<Found> {
  // A release of another distro, or none at all, is "not found" before any mirror is needed.
  spec.repos(parseRpmRelease(kernel.release, kernel.arch, spec.distro));
  const key = mirrorsFor(spec, context, options, undefined).join(' ');
  const path = join(context.cacheDir, spec.distro, 'resolved', mirrorId(key), kernel.arch, `${kernel.release}.json`);
  if (!refresh) {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    const parsed = text === undefined ? undefined : Found.safeParse(parseJson(text));
    if (parsed?.success === true && parsed.data.release === kernel.release) return parsed.data;
  }
  const found = await find(spec, kernel, context, options, refresh);
  await writeJsonAtomic(path, found);
  return found;
}

async function find(spec: RpmDistroSpec, kernel: KernelIdentity, context: BuilderContext, options: RpmBuilderOptions, refresh: boolean): Promise<Found> {
  const release = parseRpmRelease(kernel.release, kernel.arch, spec.distro);
  const paths = spec.repos(release);
  const urls = mirrorsFor(spec, context, options, release).flatMap((m) => paths.map((p) => (/^https?:\/\//.test(p) ? p : `${m}/${p}`)));
  const http = { ...options.http, ...(context.signal === undefined ? {} : { signal: context.signal }) };
  const skipped: string[] = [];
  for (const url of urls) {
    const repo = await loadRepo(url, { cacheDir: context.cacheDir, distro: spec.distro, names: DEVEL_NAMES, ttlMs: options.repoTtlMs ?? SIX_HOURS, http, refresh });
    if ('skipped' in repo) {
      skipped.push(url);
      continue;
    }
    const entry = repo.entries.find((e) => e.version === release.version && e.release === release.rel && e.arch === release.rpmArch);
    if (entry !== undefined) return { release: kernel.release, entry, base: repo.base };
  }
  throw new KernelNotFoundError(
    `kernel ${kernel.release} (${kernel.arch}) not found in ${spec.distro} repositories ${urls.join(', ')}${skipped.length === 0 ? '' : `; not on the mirror: ${skipped.join(', ')}`}`,
    { suggestions: ['Check the release string against `uname -r` of the target host', `Point mirrors.${spec.distro} (or KBUILD_${spec.distro.toUpperCase()}_MIRROR) at a mirror that keeps older kernels (a vault)`] },
  );
}

async function fetchHeaders(spec: RpmDistroSpec, kernel: KernelIdentity, context: BuilderContext, options: RpmBuilderOptions): Promise<FetchedHeaders> {
  if (kernel.distro !== spec.distro) throw new ConfigError(`the ${spec.distro} builder cannot fetch ${kernel.distro} kernels`);
  const problem = releaseProblem(kernel.release);
  if (problem !== undefined) throw new ConfigError(`kernel release ${JSON.stringify(kernel.release)} ${problem}`);
  let downloads = 0;
  const attempt = async (refresh: boolean): Promise<FetchedHeaders> => {
    const { entry, base } = await remembered(spec, kernel, context, options, refresh);
    const url = `${base}/${entry.href}`;
    const http = { ...options.http, ...(context.signal === undefined ? {} : { signal: context.signal }) };
    const blob = await ensureBlob(context.cacheDir, entry.sha256, (dest) => downloadToFile(url, dest, { sha256: entry.sha256, size: entry.size }, http));
    if (blob.created) {
      downloads++;
      context.log?.(`${spec.distro} package downloaded`, { package: entry.name, url, size: entry.size });
    }
    const tree = await ensureEntry(context.cacheDir, 'trees', entry.sha256, async (tmp) => {
      const stats = await extractRpmPrefix(blob.path, 'usr/src/kernels/', tmp);
      if (stats.droppedLinks.length > 0) context.log?.('links dropped from package', { package: entry.name, links: stats.droppedLinks });
    });
    const dir = join(tree.path, 'usr', 'src', 'kernels', kernel.release);
    if (!(await exists(dir))) throw new ArchiveError(`${entry.href} did not provide usr/src/kernels/${kernel.release}`);
    const versionCode = await versionCodeOf(dir);
    return {
      kernel,
      trees: { flavour: dir, common: dir, ...(versionCode === undefined ? {} : { versionCode }) },
      packages: [{ name: entry.name, version: `${entry.version}-${entry.release}`, sha256: entry.sha256, suite: base }],
      fromCache: downloads === 0,
    };
  };
  try {
    return await attempt(false);
  } catch (err) {
    // A cached repository listing can outlive the package on the mirror: look again once.
    if (!isNotFound(err)) throw err;
    return attempt(true);
  }
}

async function crawl(spec: RpmDistroSpec, context: BuilderContext, crawlOptions: CrawlOptions, options: RpmBuilderOptions): Promise<CrawledKernel[]> {
  const arch = rpmArch(crawlOptions.arch);
  const http = { ...options.http, ...(context.signal === undefined ? {} : { signal: context.signal }) };
  const found = new Map<string, CrawledKernel>();
  for (const mirror of mirrorsFor(spec, context, options, undefined)) {
    for (const path of spec.crawlRepos(arch)) {
      const url = /^https?:\/\//.test(path) ? path : `${mirror}/${path}`;
      const repo = await loadRepo(url, { cacheDir: context.cacheDir, distro: spec.distro, names: DEVEL_NAMES, ttlMs: options.repoTtlMs ?? 60 * 60 * 1000, http });
      if ('skipped' in repo) {
        context.log?.(`${spec.distro} repository skipped`, { url, reason: repo.skipped });
        continue;
      }
      for (const e of repo.entries) {
        const release = `${e.version}-${e.release}.${e.arch}`;
        if (e.arch !== arch || releaseProblem(release) !== undefined || found.has(release)) continue;
        found.set(release, { release, arch: crawlOptions.arch, packageVersion: `${e.version}-${e.release}`, source: url });
      }
    }
  }
  return [...found.values()];
}

export function createRpmBuilder(spec: RpmDistroSpec, options: RpmBuilderOptions = {}): DistroBuilder {
  return {
    distro: spec.distro,
    arches: spec.arches,
    covers: spec.covers,
    supportsImages: false,
    fetchHeaders: (kernel, context) => fetchHeaders(spec, kernel, context, options),
    fetchImage: (kernel) =>
      Promise.reject(
        new NotSupportedError(`fetching ${kernel.distro} kernel images is not supported yet (CO-RE BTF comes from Debian kernel images)`, {
          suggestions: ['Take core.btfFrom from a debian kernel in kernels.yaml'],
        }),
      ),
    crawl: (context, crawlOptions) => crawl(spec, context, crawlOptions, options),
  };
}
