import { KernelNotFoundError } from '../../errors.js';
import type { Arch } from '../../kernel/identity.js';

/**
 * RPM kernel releases are `<version>-<release>.<arch>` of the kernel package
 * (4.18.0-553.el8_10.x86_64, 6.11.4-301.fc41.x86_64,
 * 5.10.228-219.884.amzn2.x86_64); the dist tag inside <release> says which
 * distro version built it, hence which repositories to search.
 */

export type DistTag =
  | { readonly kind: 'el'; readonly major: number; readonly minor?: number }
  | { readonly kind: 'fc'; readonly major: number }
  | { readonly kind: 'amzn'; readonly major: number };

export interface RpmRelease {
  readonly release: string;
  /** kernel-devel's version and release fields. */
  readonly version: string;
  readonly rel: string;
  readonly rpmArch: string;
  readonly majorMinor: string;
  readonly dist?: DistTag;
}

export function rpmArch(arch: Arch): string {
  return arch === 'x86_64' ? 'x86_64' : 'aarch64';
}

function distTag(rel: string): DistTag | undefined {
  const el = /(?:^|\.)el([0-9]+)(?:_([0-9]+))?(?:\.|$)/.exec(rel);
  if (el?.[1] !== undefined) return { kind: 'el', major: Number(el[1]), ...(el[2] === undefined ? {} : { minor: Number(el[2]) }) };
  const fc = /(?:^|\.)fc([0-9]+)(?:\.|$)/.exec(rel);
  if (fc?.[1] !== undefined) return { kind: 'fc', major: Number(fc[1]) };
  const amzn = /(?:^|\.)amzn(2023|2)(?:\.|$)/.exec(rel);
  if (amzn?.[1] !== undefined) return { kind: 'amzn', major: Number(amzn[1]) };
  return undefined;
}

export function parseRpmRelease(release: string, arch: Arch, distro: string): RpmRelease {
  const match = /^(([0-9]+\.[0-9]+)(?:\.[0-9]+)*)-([A-Za-z0-9_.+]+)\.(x86_64|aarch64)$/.exec(release);
  if (match?.[1] === undefined || match[2] === undefined || match[3] === undefined || match[4] === undefined) {
    throw new KernelNotFoundError(`kernel ${release} not found: not a ${distro} kernel release (<version>-<release>.<arch>, e.g. 4.18.0-553.el8_10.x86_64)`);
  }
  if (match[4] !== rpmArch(arch)) {
    throw new KernelNotFoundError(`kernel ${release} not found for ${arch}: its release names arch ${match[4]}`);
  }
  const dist = distTag(match[3]);
  return { release, version: match[1], rel: match[3], rpmArch: match[4], majorMinor: match[2], ...(dist === undefined ? {} : { dist }) };
}
