import type { Arch } from '../../src/kernel/identity.js';
import { loadKernelIndex, parseDepends } from '../../src/repo/apt/packages-index.js';
import { aptTrust } from '../../src/repo/apt/trust.js';
import type { BuilderContext, CrawledKernel, CrawlOptions } from '../types.js';
import { seriesOf, ubuntuMirror, UBUNTU_KEYRING, type UbuntuBuilderOptions } from './settings.js';
import { allSeries, buildNumber, parseUbuntuRelease, POCKETS } from './release.js';
import { ubuntuArch } from './resolve.js';

/** A linux-headers-<release> stanza is a kernel when it depends on its ABI's common headers (meta packages do not). */
function kernelOf(name: string, depends: string | undefined): { release: string } | undefined {
  const release = name.slice('linux-headers-'.length);
  let abi: string;
  try {
    abi = parseUbuntuRelease(release).abi;
  } catch {
    return undefined;
  }
  const hasCommon = parseDepends(depends ?? '').flat().some((d) => d.name.startsWith('linux-') && d.name.endsWith(`headers-${abi}`));
  return name.startsWith('linux-headers-') && hasCommon ? { release } : undefined;
}

export async function crawlUbuntu(context: BuilderContext, crawl: CrawlOptions, options: UbuntuBuilderOptions): Promise<CrawledKernel[]> {
  const arch: Arch = crawl.arch;
  const env = options.env ?? process.env;
  const mirror = ubuntuMirror(arch, context, env);
  const series = seriesOf(options) ?? allSeries();
  const found = new Map<string, CrawledKernel>();
  for (const suite of series.flatMap((s) => POCKETS.map((p) => `${s}${p}`))) {
    const location = { cacheDir: context.cacheDir, archive: 'ubuntu', mirror, suite, debArch: ubuntuArch(arch) };
    const http = { ...options.http, ...(context.signal === undefined ? {} : { signal: context.signal }) };
    const result = await loadKernelIndex(location, { ttlMs: 60 * 60 * 1000, http, trust: aptTrust('ubuntu', UBUNTU_KEYRING, options) });
    if ('skipped' in result) {
      context.log?.('ubuntu suite skipped', { suite, reason: result.skipped });
      continue;
    }
    for (const p of result.index.packages) {
      const kernel = kernelOf(p.package, p.depends);
      const build = buildNumber(p.version);
      if (kernel === undefined || build === undefined) continue;
      const key = `${kernel.release} ${build}`;
      if (!found.has(key)) found.set(key, { release: kernel.release, arch, version: build, packageVersion: p.version, source: suite });
    }
  }
  return [...found.values()];
}
