import { join } from 'node:path';
import { extractDebMember } from '../../src/archive/deb.js';
import { ensureEntry } from '../../src/cache/content-cache.js';
import { ConfigError } from '../../src/errors.js';
import type { HttpOptions } from '@kbuild/loader/internal';
import type { KernelIdentity } from '../../src/kernel/identity.js';
import { releaseProblem } from '../../src/kernel/release.js';
import { asRef, fetchDeb, headerTrees, withRefresh, type DebFetch } from '../../src/repo/apt/header-tree.js';
import type { BuilderContext, DistroBuilder, FetchedBuildTree, FetchedDebugPackage, FetchedHeaders, FetchedImage } from '../types.js';
import { debianBuildTree } from './build-tree.js';
import { crawlDebian } from './crawl.js';
import { trustOptions, type DebianBuilderOptions } from './trust.js';
import { imageMember, resolveDebug, resolveHeaders, resolveImage, type ResolveContext } from './resolve.js';
import { suitePlan } from './suites.js';

export { DEFAULT_KEYRING, trustOptions, type DebianBuilderOptions } from './trust.js';

const SIX_HOURS = 6 * 60 * 60 * 1000;

/** State of one fetch: where to download from, and whether anything was. */
interface Operation {
  readonly kernel: KernelIdentity;
  readonly context: BuilderContext;
  readonly resolve: ResolveContext;
  readonly http: HttpOptions;
  downloads: number;
}

async function start(kernel: KernelIdentity, context: BuilderContext, options: DebianBuilderOptions, refresh: boolean): Promise<Operation> {
  if (kernel.distro !== 'debian') throw new ConfigError(`the debian builder cannot fetch ${kernel.distro} kernels`);
  const problem = releaseProblem(kernel.release);
  if (problem !== undefined) throw new ConfigError(`kernel release ${JSON.stringify(kernel.release)} ${problem}`);
  const suites = await suitePlan(context, options);
  const http: HttpOptions = { ...options.http, ...(context.signal === undefined ? {} : { signal: context.signal }) };
  const operation: Operation = {
    kernel,
    context,
    http,
    downloads: 0,
    resolve: {
      cacheDir: context.cacheDir,
      ...suites,
      index: {
        ttlMs: options.indexTtlMs ?? SIX_HOURS,
        http,
        refresh,
        trust: trustOptions(options),
        onDownload: (url, bytes) => {
          operation.downloads++;
          context.log?.('debian index downloaded', { url, bytes });
        },
      },
    },
  };
  return operation;
}

function debFetch(operation: Operation): DebFetch {
  return {
    archive: 'debian',
    cacheDir: operation.context.cacheDir,
    mirror: operation.resolve.mirror,
    http: operation.http,
    log: operation.context.log,
    onDownload: () => {
      operation.downloads++;
    },
  };
}

async function fetchHeaders(operation: Operation): Promise<FetchedHeaders> {
  const { kernel } = operation;
  const { value: resolved } = await resolveHeaders(operation.resolve, kernel);
  const { headers, common } = resolved;
  const trees = await headerTrees(debFetch(operation), headers, common, { flavour: `linux-headers-${kernel.release}`, common: common.name });
  return { kernel, trees, packages: [asRef(headers), asRef(common)], fromCache: operation.downloads === 0 };
}

async function fetchImage(operation: Operation): Promise<FetchedImage> {
  const { kernel, context } = operation;
  const { value: resolved } = await resolveImage(operation.resolve, kernel);
  const file = `vmlinuz-${kernel.release}`;
  const member = imageMember(resolved.image.name, kernel.release);
  const entry = await ensureEntry(context.cacheDir, 'images', resolved.image.sha256, async (tmp) => {
    await extractDebMember(await fetchDeb(debFetch(operation), resolved.image), member, join(tmp, file), { signal: context.signal });
  });
  return { kernel, path: join(entry.path, file), package: asRef(resolved.image), fromCache: operation.downloads === 0 };
}

/** The -dbg package is ~280 MB (cloud) to ~1 GB: kept whole in the cache, never unpacked (see src/btf/dbg-btf.ts). */
async function fetchDebugPackage(operation: Operation): Promise<FetchedDebugPackage> {
  const { value: resolved } = await resolveDebug(operation.resolve, operation.kernel);
  const path = await fetchDeb(debFetch(operation), resolved.image);
  return {
    kernel: operation.kernel,
    path,
    vmlinuxMember: `usr/lib/debug/boot/vmlinux-${operation.kernel.release}`,
    package: asRef(resolved.image),
    fromCache: operation.downloads === 0,
  };
}

async function fetchBuildTree(operation: Operation): Promise<FetchedBuildTree> {
  const tree = await debianBuildTree(operation.resolve, debFetch(operation), operation.kernel);
  return { ...tree, fromCache: operation.downloads === 0 };
}

export function createDebianBuilder(options: DebianBuilderOptions = {}): DistroBuilder {
  return {
    distro: 'debian',
    arches: ['x86_64', 'arm64'],
    covers: 'Debian 11 bullseye (5.10), 12 bookworm (6.1, 6.12 backports), 13 trixie (6.12, 7.x backports), forky and sid, with -security, -updates and -backports; amd64 and arm64',
    supportsImages: true,
    fetchHeaders: (kernel, context) =>
      withRefresh(async (refresh) => fetchHeaders(await start(kernel, context, options, refresh))),
    fetchImage: (kernel, context) => withRefresh(async (refresh) => fetchImage(await start(kernel, context, options, refresh))),
    fetchDebugPackage: (kernel, context) =>
      withRefresh(async (refresh) => fetchDebugPackage(await start(kernel, context, options, refresh))),
    fetchBuildTree: (kernel, context) =>
      withRefresh(async (refresh) => fetchBuildTree(await start(kernel, context, options, refresh))),
    crawl: (context, crawlOptions) => crawlDebian(context, crawlOptions, options),
  };
}

/** The production builder: mirror from configuration or apt sources, real HTTP. */
export const debianBuilder: DistroBuilder = createDebianBuilder();
