import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { findMirror } from '../../../builders/debian/mirror.js';
import { trustOptions } from '../../../builders/debian/trust.js';
import { extractSourceTarball, tarballCompression, DEFAULT_SOURCE_LIMITS, type SourceTarballLimits } from '../../archive/source-tarball.js';
import { contentKey, ensureBlob, ensureEntry } from '../../cache/content-cache.js';
import { ArchiveError } from '../../errors.js';
import { downloadToFile, type HttpOptions } from '@kbuild/loader/internal';
import { compareDebianVersions, upstreamVersion } from './debian-version.js';
import { PackageNotFoundError } from './errors.js';
import { withRefresh } from './header-tree.js';
import { loadSourcesIndex, sourceSelection, type SourceFile, type SourceStanza } from './sources-index.js';

/**
 * Fetches the upstream tarball of a Debian source package (checked against
 * the sha256 its signed Sources stanza lists, and cached by it) and unpacks
 * it into a content-addressed folder: real projects (Falco's libs, suricata,
 * systemd...) exactly as their upstream released them, with Debian's archive
 * signatures as the chain of trust. The .dsc and the Debian packaging
 * (.debian.tar.*) are not fetched: nothing here applies Debian's patches, and
 * a mirror that lacks them (some answer 404 for a package's .dsc) must not
 * make an upstream tree unfetchable.
 */

export interface SourceRequest {
  readonly name: string;
  /** A Debian version ("0.20.0-3", "1:7.0.10-1+deb13u4") or an upstream one ("0.20.0"); the newest when absent. */
  readonly version?: string;
  readonly suite: string;
}

export interface SourceFetchOptions {
  readonly cacheDir: string;
  /** Archive root; the host's apt sources (findMirror) when absent. */
  readonly mirror?: string;
  readonly signal?: AbortSignal;
  /** Accept a Release past its Valid-Until (an unmaintained mirror of sid). Off unless a caller opts in. */
  readonly ignoreValidUntil?: boolean;
  readonly limits?: SourceTarballLimits;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

export interface SourcePackage {
  /** The upstream tarball's top folder (or the extraction root when it has several). */
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  readonly suite: string;
  /** The downloaded file: the upstream .orig.tar.* (or a native package's .tar.*). */
  readonly files: readonly SourceFile[];
}

const SIX_HOURS = 6 * 60 * 60 * 1000;

export function pickSource(stanzas: readonly SourceStanza[], request: SourceRequest): SourceStanza | undefined {
  const { name, version } = request;
  const matches = stanzas.filter(
    (s) => s.package === name && (version === undefined || s.version === version || upstreamVersion(s.version) === version),
  );
  return matches.sort((a, b) => compareDebianVersions(b.version, a.version))[0];
}

/** The upstream tarball: <name>_<upstream>.orig.tar.* (or a native package's <name>_<version>.tar.*). */
export function upstreamTarball(stanza: SourceStanza): SourceFile | undefined {
  const upstream = upstreamVersion(stanza.version);
  const native = stanza.version.replace(/^[0-9]+:/, '');
  const names = [`${stanza.package}_${upstream}.orig.tar.`, `${stanza.package}_${native}.tar.`];
  return names
    .map((prefix) => stanza.files.find((f) => f.name.startsWith(prefix) && tarballCompression(f.name) !== undefined && !f.name.slice(prefix.length).includes('.tar')))
    .find((f) => f !== undefined);
}

async function resolveStanza(request: SourceRequest, options: SourceFetchOptions, mirror: string, http: HttpOptions, fresh: boolean): Promise<SourceStanza> {
  const trust = trustOptions(options.ignoreValidUntil === true ? { ignoreValidUntil: true } : {});
  const location = { cacheDir: options.cacheDir, archive: 'debian', mirror, suite: request.suite };
  const selection = sourceSelection([request.name]);
  for (const refresh of fresh ? [true] : [false, true]) {
    const result = await loadSourcesIndex(location, { ttlMs: SIX_HOURS, http, trust, refresh }, selection);
    if ('skipped' in result) {
      throw new PackageNotFoundError(`debian ${request.suite} source index from ${mirror} is unusable: ${result.skipped}`, []);
    }
    const stanza = pickSource(result.index.sources, request);
    if (stanza !== undefined) return stanza;
    // A cached index may predate an upload: look once more in a fresh one before giving up.
    if (refresh) {
      const available = result.index.sources.map((s) => `${s.version} (${request.suite})`);
      const wanted = `${request.name}${request.version === undefined ? '' : ` ${request.version}`}`;
      throw new PackageNotFoundError(`debian ${request.suite} has no source package ${wanted} (available: ${available.join(', ') || 'none'})`, available);
    }
  }
  throw new Error('unreachable');
}

/** The single top folder of an extracted tarball, as dpkg-source would strip it; else the root itself. */
async function topFolder(root: string): Promise<string> {
  const entries = await readdir(root, { withFileTypes: true });
  const only = entries.length === 1 ? entries[0] : undefined;
  return only?.isDirectory() === true ? join(root, only.name) : root;
}

/** The stanza's upstream tarball, or why it has none. */
function tarballOf(stanza: SourceStanza): SourceFile {
  const tarball = upstreamTarball(stanza);
  if (tarball === undefined) {
    throw new ArchiveError(`debian source ${stanza.package} ${stanza.version} lists no upstream tarball (files: ${stanza.files.map((f) => f.name).join(', ')})`);
  }
  return tarball;
}

/** The upstream tarball, checked against its sha256 and cached by it. */
async function downloadTarball(stanza: SourceStanza, tarball: SourceFile, options: SourceFetchOptions, mirror: string, http: HttpOptions): Promise<string> {
  const url = `${mirror}/${stanza.directory}/${tarball.name}`;
  const entry = await ensureBlob(options.cacheDir, tarball.sha256, (dest) => downloadToFile(url, dest, { sha256: tarball.sha256, size: tarball.size }, http));
  if (entry.created) options.log?.('debian source file downloaded', { url, size: tarball.size });
  return entry.path;
}

async function unpackUpstream(tarball: SourceFile, tarballPath: string, options: SourceFetchOptions): Promise<{ dir: string }> {
  const limits = options.limits ?? DEFAULT_SOURCE_LIMITS;
  const key = contentKey('upstream-tree-v1', tarball.sha256, String(limits.maxBytes), String(limits.maxEntries));
  const tree = await ensureEntry(options.cacheDir, 'sources', key, async (tmp) => {
    const stats = await extractSourceTarball(tarballPath, tarball.name, join(tmp, 'tree'), limits, options.signal);
    if (stats.droppedLinks.length > 0) options.log?.('links dropped from source tarball', { tarball: tarball.name, links: stats.droppedLinks.slice(0, 20) });
  });
  return { dir: await topFolder(join(tree.path, 'tree')) };
}

export async function fetchSourcePackage(request: SourceRequest, options: SourceFetchOptions): Promise<SourcePackage> {
  const mirror = (await findMirror(options.mirror === undefined ? {} : { configured: options.mirror })).url;
  const http: HttpOptions = options.signal === undefined ? {} : { signal: options.signal };
  // A cached index can name files the pool has since dropped: on a 404, once more from a fresh index.
  const { stanza, tarball, path } = await withRefresh(async (fresh) => {
    const found = await resolveStanza(request, options, mirror, http, fresh);
    const file = tarballOf(found);
    return { stanza: found, tarball: file, path: await downloadTarball(found, file, options, mirror, http) };
  });
  return { ...(await unpackUpstream(tarball, path, options)), name: stanza.package, version: stanza.version, suite: request.suite, files: [tarball] };
}
