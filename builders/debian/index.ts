import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { extractDebMember, extractDebPrefix } from '../../src/archive/deb.js';
import { contentKey, ensureBlob, ensureEntry, exists, linkTree } from '../../src/cache/content-cache.js';
import { ArchiveError, ConfigError } from '../../src/errors.js';
import { downloadToFile, isNotFound, type HttpOptions } from '../../src/http/client.js';
import type { KernelIdentity } from '../../src/kernel/identity.js';
import { releaseProblem } from '../../src/kernel/release.js';
import { createLogger } from '../../src/log.js';
import type { BuilderContext, DistroBuilder, FetchedHeaders, FetchedImage, PackageRef } from '../types.js';
import { findMirror } from './mirror.js';
import type { TrustOptions } from '../../src/repo/apt/release.js';
import { DEBIAN_SUITES, resolveHeaders, resolveImage, type ResolveContext, type ResolvedPackage } from './resolve.js';

/** Debian's archive keys, from the debian-archive-keyring package. */
export const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export interface DebianBuilderOptions {
  /** Suites searched in order; the first that lists the kernel wins. */
  readonly suites?: readonly string[];
  readonly http?: HttpOptions;
  /** How long a cached Packages index is trusted before it is fetched again. */
  readonly indexTtlMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Folder holding etc/apt/ for the mirror lookup; "/" by default. */
  readonly aptRoot?: string;
  /** Keyrings that may sign InRelease; else KBUILD_DEBIAN_KEYRING (colon-separated), else Debian's archive keyring. */
  readonly keyrings?: readonly string[];
  /** Read indexes without InRelease or signature check; else KBUILD_DEBIAN_ALLOW_UNSIGNED=1. Off by default. */
  readonly allowUnsigned?: boolean;
  /** Accept a Release past its Valid-Until (snapshot mirrors); else KBUILD_DEBIAN_IGNORE_VALID_UNTIL=1. */
  readonly ignoreValidUntil?: boolean;
  /** Where trust warnings go; the process logger by default, since BuilderContext.log is info-level. */
  readonly onWarning?: (message: string, fields: Record<string, unknown>) => void;
}

let defaultLogger: ReturnType<typeof createLogger> | undefined;
function logWarning(message: string, fields: Record<string, unknown>): void {
  defaultLogger ??= createLogger();
  defaultLogger.warn(fields, message);
}

/** Options win over the environment; verification is on unless something turns it off. */
export function trustOptions(options: DebianBuilderOptions): TrustOptions {
  const env = options.env ?? process.env;
  const fromEnv = env['KBUILD_DEBIAN_KEYRING']?.split(':').filter((k) => k !== '');
  const keyrings = options.keyrings ?? (fromEnv !== undefined && fromEnv.length > 0 ? fromEnv : [DEFAULT_KEYRING]);
  return {
    archive: 'debian',
    keyrings,
    allowUnsigned: options.allowUnsigned ?? env['KBUILD_DEBIAN_ALLOW_UNSIGNED'] === '1',
    checkValidUntil: !(options.ignoreValidUntil ?? env['KBUILD_DEBIAN_IGNORE_VALID_UNTIL'] === '1'),
    warn: options.onWarning ?? logWarning,
  };
}

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
  const mirror = await findMirror({
    ...(context.mirror === undefined ? {} : { configured: context.mirror }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.aptRoot === undefined ? {} : { aptRoot: options.aptRoot }),
  });
  const http: HttpOptions = { ...options.http, ...(context.signal === undefined ? {} : { signal: context.signal }) };
  const operation: Operation = {
    kernel,
    context,
    http,
    downloads: 0,
    resolve: {
      cacheDir: context.cacheDir,
      mirror: mirror.url,
      suites: options.suites ?? DEBIAN_SUITES,
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

async function fetchDeb(operation: Operation, pkg: ResolvedPackage): Promise<string> {
  const url = `${operation.resolve.mirror}/${pkg.filename}`;
  const expected = { sha256: pkg.sha256, size: pkg.size };
  const entry = await ensureBlob(operation.context.cacheDir, pkg.sha256, (dest) =>
    downloadToFile(url, dest, expected, operation.http),
  );
  if (entry.created) {
    operation.downloads++;
    operation.context.log?.('debian package downloaded', { package: pkg.name, version: pkg.version, url, size: pkg.size });
  }
  return entry.path;
}

async function extractSources(operation: Operation, pkg: ResolvedPackage, dest: string): Promise<void> {
  const stats = await extractDebPrefix(await fetchDeb(operation, pkg), 'usr/src/', dest);
  if (stats.droppedLinks.length > 0) {
    operation.context.log?.('links dropped from package', { package: pkg.name, links: stats.droppedLinks });
  }
}

async function versionCodeOf(flavourTree: string): Promise<number | undefined> {
  const text = await readFile(join(flavourTree, 'include/generated/uapi/linux/version.h'), 'utf8').catch(() => undefined);
  const match = text === undefined ? null : /^#define\s+LINUX_VERSION_CODE\s+([0-9]+)\s*$/m.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

async function requireFolder(path: string, pkg: string): Promise<string> {
  if (await exists(path)) return path;
  const present = await readdir(join(path, '..')).catch(() => []);
  throw new ArchiveError(`${pkg} did not provide ${path} (found: ${present.join(', ') || 'nothing'})`);
}

const asRef = (pkg: ResolvedPackage): PackageRef => ({ name: pkg.name, version: pkg.version, sha256: pkg.sha256, suite: pkg.suite });

/**
 * Both header packages of a kernel go into ONE tree, keyed by both hashes, so
 * relative links between them keep working as on an installed system. The
 * -common part is hard-linked from its own tree: every flavour and arch of an
 * ABI shares it, and it would otherwise cost ~57 MB per flavour.
 */
async function fetchHeaders(operation: Operation): Promise<FetchedHeaders> {
  const { kernel, context } = operation;
  const { value: resolved } = await resolveHeaders(operation.resolve, kernel);
  const { headers, common } = resolved;
  const tree = await ensureEntry(context.cacheDir, 'trees', contentKey(headers.sha256, common.sha256), async (tmp) => {
    const commonTree = await ensureEntry(context.cacheDir, 'trees', common.sha256, (dir) => extractSources(operation, common, dir));
    await linkTree(commonTree.path, tmp);
    await extractSources(operation, headers, tmp);
  });
  const src = join(tree.path, 'usr', 'src');
  const flavour = await requireFolder(join(src, `linux-headers-${kernel.release}`), headers.name);
  const commonDir = await requireFolder(join(src, common.name), common.name);
  const versionCode = await versionCodeOf(flavour);
  return {
    kernel,
    trees: { flavour, common: commonDir, ...(versionCode === undefined ? {} : { versionCode }) },
    packages: [asRef(headers), asRef(common)],
    fromCache: operation.downloads === 0,
  };
}

async function fetchImage(operation: Operation): Promise<FetchedImage> {
  const { kernel, context } = operation;
  const { value: resolved } = await resolveImage(operation.resolve, kernel);
  const file = `vmlinuz-${kernel.release}`;
  const entry = await ensureEntry(context.cacheDir, 'images', resolved.image.sha256, async (tmp) =>
    extractDebMember(await fetchDeb(operation, resolved.image), `boot/${file}`, join(tmp, file)),
  );
  return { kernel, path: join(entry.path, file), package: asRef(resolved.image), fromCache: operation.downloads === 0 };
}

/**
 * A resolution can outlive the mirror's copy of a package (old ABIs leave the
 * suites); on a 404 the kernel is resolved again from fresh indexes, once.
 */
async function withRefresh<T>(run: (refresh: boolean) => Promise<T>): Promise<T> {
  try {
    return await run(false);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return run(true);
  }
}

export function createDebianBuilder(options: DebianBuilderOptions = {}): DistroBuilder {
  return {
    distro: 'debian',
    arches: ['x86_64', 'arm64'],
    covers: 'Debian 11 bullseye (5.10), 12 bookworm (6.1), 13 trixie (6.12) and sid; amd64 and arm64',
    fetchHeaders: (kernel, context) =>
      withRefresh(async (refresh) => fetchHeaders(await start(kernel, context, options, refresh))),
    fetchImage: (kernel, context) => withRefresh(async (refresh) => fetchImage(await start(kernel, context, options, refresh))),
  };
}

/** The production builder: mirror from configuration or apt sources, real HTTP. */
export const debianBuilder: DistroBuilder = createDebianBuilder();
