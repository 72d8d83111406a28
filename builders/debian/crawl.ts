import { releaseProblem } from '../../src/kernel/release.js';
import { loadKernelIndex, parseDepends } from '../../src/repo/apt/packages-index.js';
import type { BuilderContext, CrawledKernel, CrawlOptions } from '../types.js';
import { findMirror } from './mirror.js';
import { DEBIAN_SUITES, debianArch } from './resolve.js';
import { trustOptions, type DebianBuilderOptions } from './trust.js';

const COMMON = /^linux-headers-.+-common(-[a-z0-9]+)?$/;

/**
 * Every linux-headers-<release> of the suites that depends on a -common
 * package (meta packages such as linux-headers-amd64 do not). No `version`
 * is emitted: Debian keeps a release string's ABI across uploads and the
 * builder fetches whichever upload the suite lists.
 */
export async function crawlDebian(context: BuilderContext, crawl: CrawlOptions, options: DebianBuilderOptions): Promise<CrawledKernel[]> {
  const mirror = await findMirror({
    ...(context.mirror === undefined ? {} : { configured: context.mirror }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.aptRoot === undefined ? {} : { aptRoot: options.aptRoot }),
  });
  const http = { ...options.http, ...(context.signal === undefined ? {} : { signal: context.signal }) };
  const found = new Map<string, CrawledKernel>();
  for (const suite of options.suites ?? DEBIAN_SUITES) {
    const location = { cacheDir: context.cacheDir, archive: 'debian', mirror: mirror.url, suite, debArch: debianArch(crawl.arch) };
    const result = await loadKernelIndex(location, { ttlMs: options.indexTtlMs ?? 6 * 60 * 60 * 1000, http, trust: trustOptions(options) });
    if ('skipped' in result) {
      context.log?.('debian suite skipped', { suite, reason: result.skipped });
      continue;
    }
    for (const p of result.index.packages) {
      if (!p.package.startsWith('linux-headers-') || COMMON.test(p.package)) continue;
      const release = p.package.slice('linux-headers-'.length);
      if (releaseProblem(release) !== undefined || found.has(release)) continue;
      if (!parseDepends(p.depends ?? '').flat().some((d) => COMMON.test(d.name))) continue;
      found.set(release, { release, arch: crawl.arch, packageVersion: p.version, source: suite });
    }
  }
  return [...found.values()];
}
