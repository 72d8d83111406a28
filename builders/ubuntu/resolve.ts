import { join } from 'node:path';
import { z } from 'zod';
import { KernelNotFoundError } from '../../src/errors.js';
import type { Arch, KernelIdentity } from '../../src/kernel/identity.js';
import { loadKernelIndex, mirrorId, parseDepends, type CachedIndex, type IndexLoadOptions } from '../../src/repo/apt/packages-index.js';
import { remembered, Resolution, ResolvedPackage, toRef } from '../../src/repo/apt/resolution.js';
import { nearest, oneOf } from '../../src/util/nearest.js';
import { buildNumber, parseUbuntuRelease, suitesFor, wantedBuild } from './release.js';

/**
 * Turns an Ubuntu kernel into its two header packages: linux-headers-<release>
 * (generated files, .config; mostly links into the common tree) and the
 * common package its Depends names, linux-headers-<abi> for the main kernel,
 * linux-<source>-headers-<abi> for the others (linux-aws-headers-5.15.0-1050,
 * linux-hwe-6.8-headers-6.8.0-49).
 */

export const UbuntuHeaderResolution = Resolution.extend({ headers: ResolvedPackage, common: ResolvedPackage });
export type UbuntuHeaderResolution = z.infer<typeof UbuntuHeaderResolution>;

export interface UbuntuResolveContext {
  readonly cacheDir: string;
  readonly mirror: string;
  /** Series to search whatever the kernel version; else the built-in table. */
  readonly series?: readonly string[];
  readonly index: IndexLoadOptions;
}

export function ubuntuArch(arch: Arch): 'amd64' | 'arm64' {
  return arch === 'x86_64' ? 'amd64' : 'arm64';
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

type Picked = Pick<UbuntuHeaderResolution, 'headers' | 'common'>;

function pickHeaders(index: CachedIndex, suite: string, kernel: KernelIdentity, otherBuilds: Set<string>): Picked | undefined {
  const { abi } = parseUbuntuRelease(kernel.release);
  const build = wantedBuild(kernel.version);
  const headers = index.packages.find((p) => {
    if (p.package !== `linux-headers-${kernel.release}`) return false;
    if (build === undefined || buildNumber(p.version) === build) return true;
    otherBuilds.add(`${p.version} (${suite})`);
    return false;
  });
  if (headers === undefined) return undefined;
  const commonName = new RegExp(`^linux-(?:[a-z0-9.+-]+-)?headers-${escape(abi)}$`);
  const dep = parseDepends(headers.depends ?? '')
    .flat()
    .find((d) => commonName.test(d.name));
  const common =
    dep === undefined ? undefined : index.packages.find((p) => p.package === dep.name && (dep.relation !== '=' || p.version === dep.version));
  if (common === undefined) {
    throw new KernelNotFoundError(
      `${headers.package} ${headers.version} in ubuntu ${suite} needs ${dep?.name ?? `a linux-*headers-${abi} package`}` +
        `${dep?.version === undefined ? '' : ` ${dep.version}`}, which the same index does not list`,
    );
  }
  return { headers: toRef(headers, suite), common: toRef(common, suite) };
}

async function search(context: UbuntuResolveContext, kernel: KernelIdentity): Promise<UbuntuHeaderResolution> {
  const suites = suitesFor(parseUbuntuRelease(kernel.release), context.series);
  const debArch = ubuntuArch(kernel.arch);
  const skipped: string[] = [];
  const otherBuilds = new Set<string>();
  const listed = new Set<string>();
  for (const suite of suites) {
    const location = { cacheDir: context.cacheDir, archive: 'ubuntu', mirror: context.mirror, suite, debArch };
    const result = await loadKernelIndex(location, context.index);
    if ('skipped' in result) {
      skipped.push(`${suite} (${result.skipped})`);
      continue;
    }
    const found = pickHeaders(result.index, suite, kernel, otherBuilds);
    if (found !== undefined) return { release: kernel.release, arch: kernel.arch, mirror: context.mirror, trust: result.index.trust, ...found };
    for (const p of result.index.packages) {
      // linux-headers-<abi>-<flavour>; the flavourless linux-headers-<abi> is the common tree, no release.
      const release = /^linux-headers-(\d[\d.]*-\d+-[a-z]\S*)$/.exec(p.package)?.[1];
      if (release !== undefined) listed.add(release);
    }
  }
  const near = otherBuilds.size === 0 ? nearest(kernel.release, listed) : [];
  const builds = otherBuilds.size === 0 ? '' : `; other builds listed: ${[...otherBuilds].join(', ')}`;
  const note = skipped.length === 0 ? '' : `; not searched: ${skipped.join(', ')}`;
  throw new KernelNotFoundError(
    `kernel ${kernel.release}${kernel.version === undefined ? '' : ` build ${kernel.version}`} (${kernel.arch}) not found in ubuntu suites ${suites.join(', ')} (${context.mirror})${builds}${near.length === 0 ? '' : `; did you mean ${oneOf(near)}?`}${note}`,
    {
      suggestions: [
        'Check the release string against `uname -r` and the version against `uname -v` of the target host',
        'Superseded Ubuntu kernels leave the archive; a snapshot of the archive with the same layout can be configured as the mirror',
      ],
    },
  );
}

export async function resolveUbuntuHeaders(context: UbuntuResolveContext, kernel: KernelIdentity): Promise<{ value: UbuntuHeaderResolution; fromCache: boolean }> {
  const build = wantedBuild(kernel.version) ?? 'any';
  const path = join(context.cacheDir, 'ubuntu', 'resolved', mirrorId(context.mirror), ubuntuArch(kernel.arch), `${kernel.release}.${build}.headers.json`);
  const { trust, refresh } = context.index;
  return remembered(path, UbuntuHeaderResolution, { allowUnsigned: trust.allowUnsigned, ...(refresh === undefined ? {} : { refresh }) }, () =>
    search(context, kernel),
  );
}
