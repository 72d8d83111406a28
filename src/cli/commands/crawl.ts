import { stringify } from 'yaml';
import type { CrawledKernel } from '../../../builders/types.js';
import { crawlKernels, type CrawlFilter } from '../../crawl/crawl-kernels.js';
import type { Arch } from '../../kernel/identity.js';
import { startCommandProgress } from '../../progress/command-progress.js';

export interface CrawlFlags extends CrawlFilter {
  readonly distro: string;
  readonly arch: Arch[];
  readonly mirror?: string;
  readonly json?: boolean;
}

/** Lists the kernels a distro's repositories offer, as kernels.yaml entries on stdout. */
export async function crawlCommand(flags: CrawlFlags): Promise<number> {
  // Repository indexes are downloads of several MB each: bars on a terminal, lines otherwise, on stderr.
  const progress = startCommandProgress();
  let found: CrawledKernel[];
  try {
    found = await crawlKernels({ ...flags, note: (line) => progress.note(line) });
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
