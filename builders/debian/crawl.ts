import { releaseProblem } from '../../src/kernel/release.js';
import { loadKernelIndex, parseDepends } from '../../src/repo/apt/packages-index.js';
import type { BuilderContext, CrawledKernel, CrawlOptions } from '../types.js';
import { COMMON_HEADERS, debianArch } from './resolve.js';
import { suitePlan } from './suites.js';
import { trustOptions, type DebianBuilderOptions } from './trust.js';

/**
 * Every linux-headers-<release> of the suites that depends on a -common
 * package (meta packages such as linux-headers-amd64 do not), each listed
 * once, from the first suite in search order (the one the builder fetches
 * it from). No `version` is emitted: Debian keeps a release string's ABI
 * across uploads and the builder fetches whichever upload the suite lists.
 */
export async function crawlDebian(context: BuilderContext, crawl: CrawlOptions, options: DebianBuilderOptions): Promise<CrawledKernel[]> {
  const plan = await suitePlan(context, options);
  for (const reason of plan.unavailable) context.log?.('debian suite skipped', { suite: reason });
  const http = { ...options.http, ...(context.signal === undefined ? {} : { signal: context.signal }) };
  const found = new Map<string, CrawledKernel>();
  for (const { suite, mirror } of plan.suites) {
    const location = { cacheDir: context.cacheDir, archive: 'debian', mirror, suite, debArch: debianArch(crawl.arch) };
    const result = await loadKernelIndex(location, { ttlMs: options.indexTtlMs ?? 6 * 60 * 60 * 1000, http, trust: trustOptions(options) });
    if ('skipped' in result) {
      context.log?.('debian suite skipped', { suite, reason: result.skipped });
      continue;
    }
    for (const p of result.index.packages) {
      if (!p.package.startsWith('linux-headers-') || COMMON_HEADERS.test(p.package)) continue;
      const release = p.package.slice('linux-headers-'.length);
      if (releaseProblem(release) !== undefined || found.has(release)) continue;
      if (!parseDepends(p.depends ?? '').flat().some((d) => COMMON_HEADERS.test(d.name))) continue;
      found.set(release, { release, arch: crawl.arch, packageVersion: p.version, source: suite });
    }
  }
  return [...found.values()];
}
