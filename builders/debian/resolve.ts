import { join } from 'node:path';
import type { z } from 'zod';
import { KernelNotFoundError } from '../../src/errors.js';
import type { Arch, KernelIdentity } from '../../src/kernel/identity.js';
import {
  loadKernelIndex,
  mirrorId,
  parseDepends,
  type CachedIndex,
  type IndexLoadOptions,
  type Trust,
} from '../../src/repo/apt/packages-index.js';
import { remembered, Resolution, ResolvedPackage, toRef } from '../../src/repo/apt/resolution.js';

export { ResolvedPackage } from '../../src/repo/apt/resolution.js';

/**
 * Turns a Debian kernel release into the exact packages that provide it,
 * searching the suites in order (see src/repo/apt/resolution.ts for why the
 * answer is remembered).
 */

export const DEBIAN_SUITES = ['bullseye', 'bookworm', 'trixie', 'sid'] as const;

export const HeaderResolution = Resolution.extend({ headers: ResolvedPackage, common: ResolvedPackage });
export type HeaderResolution = z.infer<typeof HeaderResolution>;

export const ImageResolution = Resolution.extend({ image: ResolvedPackage });
export type ImageResolution = z.infer<typeof ImageResolution>;

export interface ResolveContext {
  readonly cacheDir: string;
  readonly mirror: string;
  readonly suites: readonly string[];
  readonly index: IndexLoadOptions;
}

export function debianArch(arch: Arch): 'amd64' | 'arm64' {
  return arch === 'x86_64' ? 'amd64' : 'arm64';
}

const COMMON_HEADERS = /^linux-headers-.+-common(-[a-z0-9]+)?$/;

/** linux-headers-<release> and the -common (or -common-rt) package its Depends names, from one suite. */
function pickHeaders(index: CachedIndex, suite: string, release: string): Pick<HeaderResolution, 'headers' | 'common'> | undefined {
  const headers = index.packages.find((p) => p.package === `linux-headers-${release}`);
  if (headers === undefined) return undefined;
  const dep = parseDepends(headers.depends ?? '')
    .flat()
    .find((d) => COMMON_HEADERS.test(d.name));
  const common =
    dep === undefined
      ? undefined
      : index.packages.find((p) => p.package === dep.name && (dep.relation !== '=' || p.version === dep.version));
  if (common === undefined) {
    throw new KernelNotFoundError(
      `${headers.package} ${headers.version} in debian ${suite} needs ${dep?.name ?? 'a linux-headers-*-common package'}` +
        `${dep?.version === undefined ? '' : ` ${dep.version}`}, which the same index does not list`,
    );
  }
  return { headers: toRef(headers, suite), common: toRef(common, suite) };
}

function pickImage(index: CachedIndex, suite: string, release: string): ResolvedPackage | undefined {
  // The unsigned image is the plain build; the signed one wraps the same kernel for Secure Boot.
  for (const name of [`linux-image-${release}-unsigned`, `linux-image-${release}`]) {
    const stanza = index.packages.find((p) => p.package === name);
    if (stanza !== undefined) return toRef(stanza, suite);
  }
  return undefined;
}

/**
 * linux-image-<release>-dbg: the vmlinux with DWARF, for `pahole -J` when a kernel's BTF is not in its image.
 * Debian builds it from the same source package into main, so every suite that has the image has it.
 */
function pickDebug(index: CachedIndex, suite: string, release: string): ResolvedPackage | undefined {
  const stanza = index.packages.find((p) => p.package === `linux-image-${release}-dbg`);
  return stanza === undefined ? undefined : toRef(stanza, suite);
}

/** Searches the suites in order, stopping at the first hit; every index fetched on the way is cached. */
async function searchSuites<T>(
  context: ResolveContext,
  kernel: KernelIdentity,
  pick: (index: CachedIndex, suite: string) => T | undefined,
): Promise<{ found: T; trust: Trust }> {
  const debArch = debianArch(kernel.arch);
  const skipped: string[] = [];
  for (const suite of context.suites) {
    const location = { cacheDir: context.cacheDir, archive: 'debian', mirror: context.mirror, suite, debArch };
    const result = await loadKernelIndex(location, context.index);
    if ('skipped' in result) {
      skipped.push(`${suite} (${result.skipped})`);
      continue;
    }
    const found = pick(result.index, suite);
    if (found !== undefined) return { found, trust: result.index.trust };
  }
  const note = skipped.length === 0 ? '' : `; not searched: ${skipped.join(', ')}`;
  const unsignedHint = context.index.trust.allowUnsigned
    ? []
    : ['A private mirror without InRelease files can be read with KBUILD_DEBIAN_ALLOW_UNSIGNED=1 (unauthenticated)'];
  throw new KernelNotFoundError(
    `kernel ${kernel.release} (${kernel.arch}) not found in debian suites ${context.suites.join(', ')} (${context.mirror})${note}`,
    {
      suggestions: [
        'Check the release string against `uname -r` of the target host',
        'Kernels dropped from the current suites remain in Debian\'s snapshot archive; point the debian mirror at it',
        ...(skipped.length === 0 ? [] : unsignedHint),
      ],
    },
  );
}

function resolutionPath(context: ResolveContext, kernel: KernelIdentity, kind: string): string {
  return join(context.cacheDir, 'debian', 'resolved', mirrorId(context.mirror), debianArch(kernel.arch), `${kernel.release}.${kind}.json`);
}

function remember<T extends { trust: Trust }>(
  path: string,
  schema: z.ZodType<T>,
  context: ResolveContext,
  compute: () => Promise<T>,
): Promise<{ value: T; fromCache: boolean }> {
  const { trust, refresh } = context.index;
  return remembered(path, schema, { allowUnsigned: trust.allowUnsigned, ...(refresh === undefined ? {} : { refresh }) }, compute);
}

export async function resolveHeaders(
  context: ResolveContext,
  kernel: KernelIdentity,
): Promise<{ value: HeaderResolution; fromCache: boolean }> {
  return remember(resolutionPath(context, kernel, 'headers'), HeaderResolution, context, async () => {
    const { found, trust } = await searchSuites(context, kernel, (index, suite) => pickHeaders(index, suite, kernel.release));
    return { release: kernel.release, arch: kernel.arch, mirror: context.mirror, trust, ...found };
  });
}

export async function resolveImage(
  context: ResolveContext,
  kernel: KernelIdentity,
): Promise<{ value: ImageResolution; fromCache: boolean }> {
  return remember(resolutionPath(context, kernel, 'image'), ImageResolution, context, async () => {
    const { found: image, trust } = await searchSuites(context, kernel, (index, suite) => pickImage(index, suite, kernel.release));
    return { release: kernel.release, arch: kernel.arch, mirror: context.mirror, trust, image };
  });
}

export async function resolveDebug(
  context: ResolveContext,
  kernel: KernelIdentity,
): Promise<{ value: ImageResolution; fromCache: boolean }> {
  return remember(resolutionPath(context, kernel, 'dbg'), ImageResolution, context, async () => {
    const { found: image, trust } = await searchSuites(context, kernel, (index, suite) => pickDebug(index, suite, kernel.release));
    return { release: kernel.release, arch: kernel.arch, mirror: context.mirror, trust, image };
  });
}
