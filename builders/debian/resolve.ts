import { join } from 'node:path';
import { z } from 'zod';
import { KernelNotFoundError } from '../../src/errors.js';
import type { Arch, KernelIdentity } from '../../src/kernel/identity.js';
import {
  loadKernelIndex,
  mirrorId,
  parseDepends,
  type CachedIndex,
  type IndexLoadOptions,
  type PackageStanza,
  type Trust,
} from '../../src/repo/apt/packages-index.js';
import { remembered, Resolution, ResolvedPackage, toRef } from '../../src/repo/apt/resolution.js';
import { nearest, oneOf } from '../../src/util/nearest.js';
import type { ArchiveSuite, SuitePlan } from './suites.js';
import { searchOrder } from './suite-hint.js';

/**
 * Turns a Debian kernel release into the exact packages that provide it,
 * searching the suites in order (see src/repo/apt/resolution.ts for why the
 * answer is remembered).
 */

/** Every package names its archive root: a -security suite has its own. */
export const DebianPackage = ResolvedPackage.extend({ mirror: z.string() });
export type DebianPackage = z.infer<typeof DebianPackage>;

/** validUntil: the Release's, null when it has none; a remembered answer never outlives its Release. */
const DebianResolution = Resolution.extend({ validUntil: z.number().nullable() });

export const HeaderResolution = DebianResolution.extend({ headers: DebianPackage, common: DebianPackage });
export type HeaderResolution = z.infer<typeof HeaderResolution>;

export const ImageResolution = DebianResolution.extend({ image: DebianPackage });
export type ImageResolution = z.infer<typeof ImageResolution>;

export interface ResolveContext extends SuitePlan {
  readonly cacheDir: string;
  readonly index: IndexLoadOptions;
}

export function debianArch(arch: Arch): 'amd64' | 'arm64' {
  return arch === 'x86_64' ? 'amd64' : 'arm64';
}

export const COMMON_HEADERS = /^linux-headers-.+-common(-[a-z0-9]+)?$/;

/** linux-headers-<release> and the -common (or -common-rt) package its Depends names, from one suite. */
function pickHeaders(index: CachedIndex, { suite, mirror }: ArchiveSuite, release: string): Pick<HeaderResolution, 'headers' | 'common'> | undefined {
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
  return { headers: debianRef(headers, suite, mirror), common: debianRef(common, suite, mirror) };
}

export const debianRef = (stanza: PackageStanza, suite: string, mirror: string): DebianPackage => ({ ...toRef(stanza, suite), mirror });

/**
 * The unsigned image is the plain build; the signed one wraps the same kernel for Secure Boot.
 * Since 7.x (sid, trixie-backports) linux-image-<release> is a metapackage and the signed
 * vmlinuz is in linux-binary-<release>, with no -unsigned package.
 */
const IMAGE_PACKAGES = (release: string): string[] => [`linux-image-${release}-unsigned`, `linux-binary-${release}`, `linux-image-${release}`];

/** Where the image package keeps the kernel: linux-binary-* under the modules folder, the others in /boot. */
export function imageMember(pkg: string, release: string): string {
  return pkg.startsWith('linux-binary-') ? `usr/lib/modules/${release}/vmlinuz` : `boot/vmlinuz-${release}`;
}

function pickImage(index: CachedIndex, { suite, mirror }: ArchiveSuite, release: string): DebianPackage | undefined {
  for (const name of IMAGE_PACKAGES(release)) {
    const stanza = index.packages.find((p) => p.package === name);
    if (stanza !== undefined) return debianRef(stanza, suite, mirror);
  }
  return undefined;
}

/**
 * linux-image-<release>-dbg: the vmlinux with DWARF, for `pahole -J` when a kernel's BTF is not in its image.
 * Debian builds it from the same source package into main, so every suite that has the image has it.
 */
function pickDebug(index: CachedIndex, { suite, mirror }: ArchiveSuite, release: string): DebianPackage | undefined {
  const stanza = index.packages.find((p) => p.package === `linux-image-${release}-dbg`);
  return stanza === undefined ? undefined : debianRef(stanza, suite, mirror);
}

interface Found<T> {
  readonly found: T;
  readonly trust: Trust;
  readonly validUntil: number | null;
}

/** Searches the suites in order, stopping at the first hit; every index fetched on the way is cached. */
async function searchSuites<T>(
  context: ResolveContext,
  kernel: KernelIdentity,
  pick: (index: CachedIndex, suite: ArchiveSuite) => T | undefined,
): Promise<Found<T>> {
  const debArch = debianArch(kernel.arch);
  const skipped: string[] = [...context.unavailable];
  const listed = new Set<string>();
  for (const suite of searchOrder(context.suites, kernel.release)) {
    const location = { cacheDir: context.cacheDir, archive: 'debian', mirror: suite.mirror, suite: suite.suite, debArch };
    const result = await loadKernelIndex(location, context.index);
    if ('skipped' in result) {
      skipped.push(`${suite.suite} (${result.skipped})`);
      continue;
    }
    const found = pick(result.index, suite);
    if (found !== undefined) return { found, trust: result.index.trust, validUntil: result.index.validUntil ?? null };
    for (const release of listedReleases(result.index)) listed.add(release);
  }
  const near = nearest(kernel.release, listed);
  const note = `${near.length === 0 ? '' : `; did you mean ${oneOf(near)}?`}${skipped.length === 0 ? '' : `; not searched: ${skipped.join(', ')}`}`;
  const unsignedHint = context.index.trust.allowUnsigned
    ? []
    : ['A private mirror without InRelease files can be read with KBUILD_DEBIAN_ALLOW_UNSIGNED=1 (unauthenticated)'];
  const names = context.suites.map((s) => s.suite);
  throw new KernelNotFoundError(
    `kernel ${kernel.release} (${kernel.arch}) not found in debian suites ${names.join(', ')} (${context.mirror})${note}`,
    {
      suggestions: [
        'Check the release string against `uname -r` of the target host',
        'Which suites are searched: KBUILD_DEBIAN_SUITES (builders/debian/README.md); an expired Release (sid) is read only with KBUILD_DEBIAN_IGNORE_VALID_UNTIL=1',
        'Kernels dropped from the current suites remain in Debian\'s snapshot archive; point the debian mirror at it',
        ...(skipped.length === 0 ? [] : unsignedHint),
      ],
    },
  );
}

/** The kernel releases an index lists (from its linux-headers-<release> packages): what "did you mean" offers. */
function listedReleases(index: CachedIndex): string[] {
  return index.packages.flatMap((p) => {
    const release = /^linux-headers-(\d\S*)$/.exec(p.package)?.[1];
    return release === undefined || COMMON_HEADERS.test(p.package) ? [] : [release];
  });
}

function resolutionPath(context: ResolveContext, kernel: KernelIdentity, kind: string): string {
  return join(context.cacheDir, 'debian', 'resolved', mirrorId(context.mirror), debianArch(kernel.arch), `${kernel.release}.${kind}.json`);
}

/**
 * A remembered answer holds while its suite is still searched at the same root and its Release
 * has not expired: the expiry refuses a cached lookup exactly as it refuses the index.
 */
function stillValid(context: ResolveContext, value: { validUntil: number | null }, packages: readonly DebianPackage[]): boolean {
  if (context.index.trust.checkValidUntil && value.validUntil !== null && Date.now() >= value.validUntil) return false;
  return packages.every((p) => context.suites.some((s) => s.suite === p.suite && s.mirror === p.mirror));
}

export function remember<T extends { trust: Trust; validUntil: number | null }>(
  path: string,
  schema: z.ZodType<T>,
  context: ResolveContext,
  packages: (value: T) => readonly DebianPackage[],
  compute: () => Promise<T>,
): Promise<{ value: T; fromCache: boolean }> {
  const { trust, refresh } = context.index;
  const options = { allowUnsigned: trust.allowUnsigned, stillValid: (value: T) => stillValid(context, value, packages(value)) };
  return remembered(path, schema, { ...options, ...(refresh === undefined ? {} : { refresh }) }, compute);
}

export async function resolveHeaders(
  context: ResolveContext,
  kernel: KernelIdentity,
): Promise<{ value: HeaderResolution; fromCache: boolean }> {
  const packages = (v: HeaderResolution) => [v.headers, v.common];
  return remember(resolutionPath(context, kernel, 'headers'), HeaderResolution, context, packages, async () => {
    const { found, trust, validUntil } = await searchSuites(context, kernel, (index, suite) => pickHeaders(index, suite, kernel.release));
    return { release: kernel.release, arch: kernel.arch, mirror: context.mirror, trust, validUntil, ...found };
  });
}

const imagePackage = (v: ImageResolution): DebianPackage[] => [v.image];

export async function resolveImage(
  context: ResolveContext,
  kernel: KernelIdentity,
): Promise<{ value: ImageResolution; fromCache: boolean }> {
  return remember(resolutionPath(context, kernel, 'image'), ImageResolution, context, imagePackage, async () => {
    const { found: image, trust, validUntil } = await searchSuites(context, kernel, (index, suite) => pickImage(index, suite, kernel.release));
    return { release: kernel.release, arch: kernel.arch, mirror: context.mirror, trust, validUntil, image };
  });
}

export async function resolveDebug(
  context: ResolveContext,
  kernel: KernelIdentity,
): Promise<{ value: ImageResolution; fromCache: boolean }> {
  return remember(resolutionPath(context, kernel, 'dbg'), ImageResolution, context, imagePackage, async () => {
    const { found: image, trust, validUntil } = await searchSuites(context, kernel, (index, suite) => pickDebug(index, suite, kernel.release));
    return { release: kernel.release, arch: kernel.arch, mirror: context.mirror, trust, validUntil, image };
  });
}
