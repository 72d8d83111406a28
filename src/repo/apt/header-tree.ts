import { mkdir, readdir, realpath, symlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { HeaderTrees, PackageRef } from '../../../builders/types.js';
import { extractDebPrefix, type EntryFilter } from '../../archive/deb.js';
import { contentKey, ensureBlob, ensureEntry, exists, linkTree } from '../../cache/content-cache.js';
import { ArchiveError } from '../../errors.js';
import { downloadToFile, isNotFound, type HttpOptions } from '@kbuild/loader/internal';
import { versionCodeOf } from '../../kernel/version-header.js';
import { FileBlobs } from '../../cache/file-blobs.js';
import { HEADER_LAYOUT, skipConfigStamps, skipOtherArches } from './header-filter.js';
import type { ResolvedPackage } from './resolution.js';

/**
 * Downloads the header packages of one kernel from an apt archive and lays
 * them out as dpkg would, for Debian and Ubuntu alike: both packages in ONE
 * tree keyed by both hashes, so relative links between them (Ubuntu's flavour
 * package is mostly links into its common package) resolve as on an
 * installed system. The common part is extracted once into its own tree, which
 * every flavour and arch of an ABI shares: a kernel's tree holds its flavour
 * folder and a relative link to the common folder (see linkCommon).
 */

export interface DebFetch {
  readonly archive: string;
  readonly cacheDir: string;
  readonly mirror: string;
  readonly http: HttpOptions;
  readonly log?: ((message: string, fields?: Record<string, unknown>) => void) | undefined;
  /** Called once per file actually downloaded. */
  readonly onDownload: () => void;
}

export async function fetchDeb(fetch: DebFetch, pkg: ResolvedPackage): Promise<string> {
  const url = `${pkg.mirror ?? fetch.mirror}/${pkg.filename}`;
  const expected = { sha256: pkg.sha256, size: pkg.size };
  const entry = await ensureBlob(fetch.cacheDir, pkg.sha256, (dest) => downloadToFile(url, dest, expected, fetch.http));
  if (entry.created) {
    fetch.onDownload();
    fetch.log?.(`${fetch.archive} package downloaded`, { package: pkg.name, version: pkg.version, url, size: pkg.size });
  }
  return entry.path;
}

/** Header files by content, shared by every tree of the cache (see FileBlobs); one per cache root. */
const blobDirs = new Map<string, FileBlobs>();
function blobsOf(cacheDir: string): FileBlobs {
  let blobs = blobDirs.get(cacheDir);
  if (blobs === undefined) blobDirs.set(cacheDir, (blobs = new FileBlobs(join(cacheDir, 'blobs'))));
  return blobs;
}

async function extractSources(fetch: DebFetch, pkg: ResolvedPackage, dest: string, skip?: EntryFilter, debPath?: string): Promise<void> {
  const options = { blobs: blobsOf(fetch.cacheDir), ...(skip === undefined ? {} : { skip }) };
  const stats = await extractDebPrefix(debPath ?? (await fetchDeb(fetch, pkg)), 'usr/src/', dest, options);
  if (stats.droppedLinks.length > 0) fetch.log?.('links dropped from package', { package: pkg.name, links: stats.droppedLinks });
}

async function requireFolder(path: string, pkg: string): Promise<string> {
  if (await exists(path)) return path;
  const present = await readdir(join(path, '..')).catch(() => []);
  throw new ArchiveError(`${pkg} did not provide ${path} (found: ${present.join(', ') || 'nothing'})`);
}

export const asRef = (pkg: ResolvedPackage): PackageRef => ({ name: pkg.name, version: pkg.version, sha256: pkg.sha256, suite: pkg.suite });

/** The flavour package's usr/src/<flavourDir> and the common package's usr/src/<commonDir>, in one tree. */
export async function headerTrees(
  fetch: DebFetch,
  headers: ResolvedPackage,
  common: ResolvedPackage,
  dirs: { readonly flavour: string; readonly common: string },
): Promise<HeaderTrees> {
  const tree = await ensureEntry(fetch.cacheDir, 'trees', contentKey(HEADER_LAYOUT, headers.sha256, common.sha256), async (tmp) => {
    // The flavour package downloads while the common one is extracted.
    const flavourDeb = fetchDeb(fetch, headers);
    flavourDeb.catch(() => undefined);
    const commonKey = contentKey(HEADER_LAYOUT, common.sha256);
    const commonTree = await ensureEntry(fetch.cacheDir, 'trees', commonKey, (dir) => extractSources(fetch, common, dir, skipOtherArches)).catch(
      async (err: unknown) => {
        await flavourDeb.catch(() => undefined);
        throw err;
      },
    );
    await extractSources(fetch, headers, tmp, skipConfigStamps, await flavourDeb);
    await linkCommon(commonTree.path, tmp);
  });
  const src = join(tree.path, 'usr', 'src');
  const flavour = await requireFolder(join(src, dirs.flavour), headers.name);
  // The real folder, not the link: a builder container mounts it on its own.
  const commonDir = await realpath(await requireFolder(join(src, dirs.common), common.name));
  const versionCode = await versionCodeOf(flavour);
  return { flavour, common: commonDir, ...(versionCode === undefined ? {} : { versionCode }) };
}

/**
 * Puts the common tree's usr/src/* folders into a kernel's tree as relative
 * links (`usr/src/linux-headers-6.1.0-50-common -> ../../../<key>/usr/src/...`),
 * where dpkg would have put them. Both trees are entries of the same cache
 * folder, so the link resolves wherever the cache is; a kernel costs one link
 * instead of hard-linking the common tree's ~6,500 files (0.2-0.3 s each time).
 * A folder the flavour package itself provides is merged by hard links instead,
 * so nothing is ever written through a link into the shared tree. Trees that
 * must stand alone (kernel build trees, mounted on their own) expand these
 * links: see linkTree's `expandSharedLinks`.
 */
async function linkCommon(commonRoot: string, dest: string): Promise<void> {
  const from = join(commonRoot, 'usr', 'src');
  const to = join(dest, 'usr', 'src');
  await mkdir(to, { recursive: true });
  const own = new Set(await readdir(to));
  for (const name of await readdir(from)) {
    if (own.has(name)) await linkTree(join(from, name), join(to, name));
    // The entry folder is renamed beside `commonRoot` once populated: the link is relative to the final place.
    else await symlink(join(relative(to, join(dest, '..')), relative(join(commonRoot, '..'), join(from, name))), join(to, name));
  }
}

/**
 * A resolution can outlive the mirror's copy of a package (old ABIs leave the
 * suites); on a 404 the kernel is resolved again from fresh indexes, once.
 */
export async function withRefresh<T>(run: (refresh: boolean) => Promise<T>): Promise<T> {
  try {
    return await run(false);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return run(true);
  }
}
