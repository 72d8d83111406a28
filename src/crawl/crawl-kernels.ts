import { builderFor } from '../../builders/registry.js';
import type { CrawledKernel } from '../../builders/types.js';
import { cacheRoot } from '../cache/cache-dir.js';
import { knownDistros } from '../config/known-distros.js';
import { ConfigError } from '../errors.js';
import type { Arch } from '../kernel/identity.js';
import { compareVersions, parseReleaseVersion } from '../kernel/release.js';

/**
 * What `kbuild crawl` and `kbuild sync` share: a distro's kernels for some
 * arches, filtered and newest first.
 */

export interface CrawlFilter {
  readonly releaseFilter?: string;
  /** Flavours as a release names them after its ABI (cloud-amd64, rt-arm64, arm64-16k, aws). */
  readonly flavour?: readonly string[];
  /** Where the kernel was found (a suite such as bookworm-security, or a repository URL). */
  readonly suite?: readonly string[];
  /** The newest N per arch, after the other filters. */
  readonly latest?: number;
}

export interface CrawlRequest extends CrawlFilter {
  readonly distro: string;
  readonly arch: readonly Arch[];
  readonly mirror?: string;
  /** One line per step (crawl's progress on stderr). */
  readonly note?: (line: string) => void;
}

/** Newest first: by kernel version, then by the package version's numbers. */
function newestFirst(a: CrawledKernel, b: CrawledKernel): number {
  const byKernel = compareVersions(parseReleaseVersion(b.release), parseReleaseVersion(a.release));
  return byKernel !== 0 ? byKernel : b.packageVersion.localeCompare(a.packageVersion, 'en', { numeric: true });
}

/** The part of a Debian or Ubuntu release after its version and ABI: 6.1.0-57-cloud-amd64 → cloud-amd64, 6.12.95+deb12-rt-arm64 → rt-arm64. */
export function flavourOf(release: string): string | undefined {
  return /^[0-9][0-9.]*(?:\+[a-z0-9]+)?(?:-[0-9][a-z0-9.]*)?-([a-z][a-z0-9-]*)$/.exec(release)?.[1];
}

export function releaseRegex(filter: string | undefined, flag = '--release-filter'): RegExp | undefined {
  try {
    return filter === undefined ? undefined : new RegExp(filter);
  } catch (err) {
    throw new ConfigError(`${flag} ${JSON.stringify(filter)} is not a regular expression`, { cause: err });
  }
}

/** Checks the distro and arches, then crawls each arch; bad input is a ConfigError before any download. */
export async function crawlKernels(request: CrawlRequest): Promise<CrawledKernel[]> {
  const { distro } = request;
  const builder = builderFor(distro);
  if (builder === undefined) throw new ConfigError(`unknown distro "${distro}", expected one of: ${knownDistros().join(', ')}`);
  const filter = releaseRegex(request.releaseFilter);
  const crawl = builder.crawl;
  if (crawl === undefined) throw new ConfigError(`the ${distro} builder cannot list kernels`);
  for (const arch of request.arch) {
    if (!builder.arches.includes(arch)) throw new ConfigError(`the ${distro} builder does not build ${arch}`);
  }
  const keep = (k: CrawledKernel): boolean =>
    (filter === undefined || filter.test(k.release)) &&
    (request.flavour === undefined || request.flavour.includes(flavourOf(k.release) ?? '')) &&
    (request.suite === undefined || request.suite.includes(k.source));
  const found: CrawledKernel[] = [];
  for (const arch of request.arch) {
    request.note?.(`crawling ${distro} ${arch}${request.mirror === undefined ? '' : ` at ${request.mirror}`}`);
    const context = { cacheDir: cacheRoot(), ...(request.mirror === undefined ? {} : { mirror: request.mirror }) };
    const kernels = (await crawl.call(builder, context, { arch })).filter(keep).sort(newestFirst).slice(0, request.latest ?? Infinity);
    request.note?.(`${distro} ${arch}: ${kernels.length} kernel${kernels.length === 1 ? '' : 's'}`);
    found.push(...kernels);
  }
  return found;
}
