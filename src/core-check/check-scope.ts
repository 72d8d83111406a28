import { z } from 'zod';
import type { BtfSourceName } from '../btf/source-names.js';
import type { KernelsFile } from '../config/kernels-schema.js';
import { crawlKernels } from '../crawl/crawl-kernels.js';
import { errorMessage } from '../errors.js';
import type { Arch } from '../kernel/identity.js';
import type { CheckKernel } from './run-check.js';

/**
 * Which kernels a publish-time check covers: `kernels` the build set's own,
 * `archive` every kernel the distros' archives offer for the arches built
 * (what `kbuild crawl <distro>` lists), the build set's kernels included.
 */
export const CoreCheckScope = z.enum(['kernels', 'archive']);
export type CoreCheckScope = z.infer<typeof CoreCheckScope>;

/**
 * Everything the check needs besides the index, taken from kernels.yaml when
 * the build set is submitted: a farm's publish step runs it on another machine.
 */
export interface CoreCheckRequest {
  readonly scope: CoreCheckScope;
  readonly kernels: readonly CheckKernel[];
  readonly mirrors?: Readonly<Record<string, string>>;
  readonly sources?: readonly BtfSourceName[];
  readonly archive?: string;
}

export function coreCheckRequest(scope: CoreCheckScope, config: KernelsFile): CoreCheckRequest {
  return {
    scope,
    kernels: config.kernels.map((k) => ({ distro: k.distro, release: k.release, arch: k.arch, ...(k.version === undefined ? {} : { version: k.version }), ...(k.distroVersion === undefined ? {} : { distroVersion: k.distroVersion }) })),
    ...(config.mirrors === undefined ? {} : { mirrors: config.mirrors }),
    ...(config.btf?.sources === undefined ? {} : { sources: config.btf.sources }),
    ...(config.btf?.archive === undefined ? {} : { archive: config.btf.archive }),
  };
}

/** What `kbuild check --crawl <distro>` checks: every kernel the distro's archive lists for these arches. */
export async function crawledCheckKernels(distro: string, arch: readonly Arch[], options: { releaseFilter?: string; mirror?: string } = {}): Promise<CheckKernel[]> {
  const found = await crawlKernels({ distro, arch, ...(options.releaseFilter === undefined ? {} : { releaseFilter: options.releaseFilter }), ...(options.mirror === undefined ? {} : { mirror: options.mirror }) });
  return found.map((k) => ({ distro, release: k.release, arch: k.arch }));
}

/**
 * The kernels of a request. With `archive`, each distro of the build set is
 * crawled for the arches that have a CO-RE object; a distro whose archive
 * cannot be crawled keeps the build set's kernels, and the reason is a note.
 */
export async function kernelsInScope(request: CoreCheckRequest, coreArches: readonly Arch[], note: (line: string) => void): Promise<CheckKernel[]> {
  const own = request.kernels.filter((k) => coreArches.includes(k.arch));
  if (request.scope === 'kernels') return own;
  const found = new Map(own.map((k) => [`${k.distro} ${k.release} ${k.arch}`, k]));
  for (const distro of [...new Set(own.map((k) => k.distro))]) {
    const mirror = request.mirrors?.[distro];
    try {
      for (const k of await crawledCheckKernels(distro, coreArches, mirror === undefined ? {} : { mirror })) {
        if (!found.has(`${k.distro} ${k.release} ${k.arch}`)) found.set(`${k.distro} ${k.release} ${k.arch}`, k);
      }
    } catch (err) {
      note(`CO-RE check: cannot crawl ${distro}'s archive (${errorMessage(err)}); checking the build set's ${distro} kernels only`);
    }
  }
  return [...found.values()];
}
