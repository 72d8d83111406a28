import { stringify } from 'yaml';
import { builderFor } from '../../../builders/registry.js';
import type { CrawledKernel } from '../../../builders/types.js';
import { cacheRoot } from '../../cache/cache-dir.js';
import { knownDistros } from '../../config/known-distros.js';
import { ConfigError } from '../../errors.js';
import type { Arch } from '../../kernel/identity.js';
import { compareVersions, parseReleaseVersion } from '../../kernel/release.js';
import { startCommandProgress } from '../../progress/command-progress.js';

export interface CrawlFlags {
  readonly distro: string;
  readonly arch: Arch[];
  readonly releaseFilter?: string;
  readonly latest?: number;
  readonly mirror?: string;
  readonly json?: boolean;
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
  for (const arch of flags.arch) {
    if (!builder.arches.includes(arch)) throw new ConfigError(`the ${flags.distro} builder does not build ${arch}`);
  }
  const found: CrawledKernel[] = [];
  // Repository indexes are downloads of several MB each: bars on a terminal, lines otherwise, on stderr.
  const progress = startCommandProgress();
  try {
    for (const arch of flags.arch) {
      progress.note(`crawling ${flags.distro} ${arch}${flags.mirror === undefined ? '' : ` at ${flags.mirror}`}`);
      const context = { cacheDir: cacheRoot(), ...(flags.mirror === undefined ? {} : { mirror: flags.mirror }) };
      const kernels = (await crawl.call(builder, context, { arch }))
        .filter((k) => filter === undefined || filter.test(k.release))
        .sort(newestFirst)
        .slice(0, flags.latest ?? Infinity);
      progress.note(`${flags.distro} ${arch}: ${kernels.length} kernel${kernels.length === 1 ? '' : 's'}`);
      found.push(...kernels);
    }
  } finally {
    progress.close();
  }
  const entry = (k: CrawledKernel) => ({ distro: flags.distro, release: k.release, arch: k.arch, ...(k.version === undefined ? {} : { version: k.version }) });
  if (flags.json === true) {
    const kernels = found.map((k) => ({ ...entry(k), packageVersion: k.packageVersion, source: k.source }));
    process.stdout.write(`${JSON.stringify({ distro: flags.distro, arches: flags.arch, kernels }, null, 2)}\n`);
  } else {
    const lines = found.map((k) => `  - ${stringify(entry(k), { collectionStyle: 'flow' }).trim()}  # ${k.packageVersion} from ${k.source}`);
    process.stdout.write(`kernels:\n${lines.join('\n')}${lines.length === 0 ? '  []' : ''}\n`);
  }
  if (found.length === 0) process.stderr.write(`kbuild: no ${flags.distro} kernels found\n`);
  return found.length === 0 ? 1 : 0;
}
