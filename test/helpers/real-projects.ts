/**
 * Test and bench corpus: real eBPF projects exactly as upstream released them,
 * taken from Debian's source archive (signed Sources index, sha256-checked
 * files) with fetchSourcePackage and cached under the kbuild cache root, so
 * only the first run downloads (~43 MB for all eight).
 */
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { isNotFound } from '@kbuild/loader/internal';
import { upstreamVersion } from '../../src/repo/apt/debian-version.js';
import { fetchSourcePackage, type SourcePackage, type SourceRequest } from '../../src/repo/apt/source-package.js';

export type RealProjectName = 'falcosecurity-libs' | 'suricata' | 'systemd' | 'libbpf' | 'xdp-tools' | 'opensnitch' | 'bpftune' | 'pwru';

interface ProjectSource {
  readonly request: SourceRequest;
  /** Upstream versions accepted: a point release of the suite may replace the exact one. */
  readonly upstream: RegExp;
  /** Where to look when the first suite's pool files are missing from the mirror. */
  readonly fallback?: { readonly request: SourceRequest; readonly ignoreValidUntil: boolean };
}

export const REAL_PROJECTS: Readonly<Record<RealProjectName, ProjectSource>> = {
  'falcosecurity-libs': { request: { name: 'falcosecurity-libs', version: '0.20.0', suite: 'trixie' }, upstream: /^0\.20\.0$/ },
  suricata: { request: { name: 'suricata', version: '7.0.10', suite: 'trixie' }, upstream: /^7\.0\.10$/ },
  // trixie's systemd moves with stable point releases (257.13 today); any 257.x will do.
  systemd: { request: { name: 'systemd', suite: 'trixie' }, upstream: /^257\./ },
  libbpf: { request: { name: 'libbpf', version: '1.5.0', suite: 'trixie' }, upstream: /^1\.5\.0$/ },
  'xdp-tools': {
    request: { name: 'xdp-tools', suite: 'trixie' },
    upstream: /^1\.[5-9]\./,
    // trixie lists xdp-tools 1.5.4-1, but this host's mirror 404s on its pool
    // files; sid's (1.6.x) are there. sid's Release on an unmaintained mirror is
    // past its Valid-Until, so this one fetch opts out of that check, and only
    // after the signed trixie route failed. The signature is still checked.
    fallback: { request: { name: 'xdp-tools', suite: 'sid' }, ignoreValidUntil: true },
  },
  // These three have no .dsc on the mirror this was written on; only their upstream tarballs are fetched.
  opensnitch: { request: { name: 'opensnitch', version: '1.6.9', suite: 'trixie' }, upstream: /^1\.6\.9$/ },
  bpftune: { request: { name: 'bpftune', version: '0.0~git20250314.8fd59cc', suite: 'trixie' }, upstream: /^0\.0~git20250314\.8fd59cc$/ },
  // +ds1: Debian dropped the vendored Go modules and libpcap; bpf/ and its headers are upstream's.
  pwru: { request: { name: 'pwru', version: '1.0.5+ds1', suite: 'trixie' }, upstream: /^1\.0\.5\+ds1$/ },
};

async function fetchProject(source: ProjectSource): Promise<SourcePackage> {
  const options = { cacheDir: cacheRoot() };
  try {
    return await fetchSourcePackage(source.request, options);
  } catch (err) {
    if (source.fallback === undefined || !isNotFound(err)) throw err;
    return fetchSourcePackage(source.fallback.request, { ...options, ignoreValidUntil: source.fallback.ignoreValidUntil });
  }
}

/** The source package of a corpus project (dir, Debian version, files). */
export async function realProjectSource(name: RealProjectName): Promise<SourcePackage> {
  const source = REAL_PROJECTS[name];
  const fetched = await fetchProject(source);
  if (!source.upstream.test(upstreamVersion(fetched.version))) {
    throw new Error(`corpus project ${name}: Debian ${fetched.suite} now has ${fetched.version}, not ${source.upstream}; update REAL_PROJECTS`);
  }
  return fetched;
}

/** The extracted upstream folder of a corpus project. */
export async function realProject(name: RealProjectName): Promise<string> {
  return (await realProjectSource(name)).dir;
}
