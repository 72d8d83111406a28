import { stringify } from 'yaml';
import { builderFor } from '../../../builders/registry.js';
import type { CrawledKernel } from '../../../builders/types.js';
import { cacheRoot } from '../../cache/cache-dir.js';
import { knownDistros } from '../../config/known-distros.js';
import { ConfigError } from '../../errors.js';
import type { Arch } from '../../kernel/identity.js';
import { compareVersions, parseReleaseVersion } from '../../kernel/release.js';

export interface CrawlFlags {
  readonly distro: string;
  readonly arch: Arch[];
  readonly releaseFilter?: string;
  readonly latest?: number;
  readonly mirror?: string;
}

/** Newest first: by kernel version, then by the package version's numbers. */
function newestFirst(a: CrawledKernel, b: CrawledKernel): number {
  const byKernel = compareVersions(parseReleaseVersion(b.release), parseReleaseVersion(a.release));
  return byKernel !== 0 ? byKernel : b.packageVersion.localeCompare(a.packageVersion, 'en', { numeric: true });
}

/** Lists the kernels a distro's repositories offer, as kernels.yaml entries on stdout. */
export async function crawlCommand(flags: CrawlFlags): Promise<number> {
  const builder = builderFor(flags.distro);
  if (builder === undefined) throw new ConfigError(`unknown distro "${flags.distro}", expected one of: ${knownDistros().join(', ')}`);
  let filter: RegExp | undefined;
  try {
    filter = flags.releaseFilter === undefined ? undefined : new RegExp(flags.releaseFilter);
  } catch (err) {
    throw new ConfigError(`--release-filter ${JSON.stringify(flags.releaseFilter)} is not a regular expression`, { cause: err });
  }
  const crawl = builder.crawl;
  if (crawl === undefined) throw new ConfigError(`the ${flags.distro} builder cannot list kernels`);
  const lines: string[] = [];
  for (const arch of flags.arch) {
    if (!builder.arches.includes(arch)) throw new ConfigError(`the ${flags.distro} builder does not build ${arch}`);
    const context = { cacheDir: cacheRoot(), ...(flags.mirror === undefined ? {} : { mirror: flags.mirror }) };
    const kernels = (await crawl.call(builder, context, { arch }))
      .filter((k) => filter === undefined || filter.test(k.release))
      .sort(newestFirst)
      .slice(0, flags.latest ?? Infinity);
    for (const k of kernels) {
      const entry = { distro: flags.distro, release: k.release, arch: k.arch, ...(k.version === undefined ? {} : { version: k.version }) };
      lines.push(`  - ${stringify(entry, { collectionStyle: 'flow' }).trim()}  # ${k.packageVersion} from ${k.source}`);
    }
  }
  process.stdout.write(`kernels:\n${lines.join('\n')}${lines.length === 0 ? '  []' : ''}\n`);
  if (lines.length === 0) process.stderr.write(`kbuild: no ${flags.distro} kernels found\n`);
  return lines.length === 0 ? 1 : 0;
}
