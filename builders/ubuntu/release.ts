import { KernelNotFoundError } from '../../src/errors.js';

/**
 * Ubuntu kernel releases are `<upstream>-<abi>-<flavour>` (5.15.0-91-generic,
 * 5.15.0-1050-aws, 6.8.0-49-generic on jammy's HWE stack); the package
 * version adds the upload number (5.15.0-91.101, 6.8.0-49.49~22.04.1) that
 * `uname -v` prints as its build number (#101-Ubuntu SMP ...).
 */

export interface UbuntuRelease {
  readonly release: string;
  readonly upstream: string;
  /** e.g. "5.15.0-91": names the common header package linux[-<source>]-headers-<abi>. */
  readonly abi: string;
  readonly flavour: string;
  /** "5.15": picks the series that ship it. */
  readonly majorMinor: string;
}

const RELEASE = /^(([0-9]+\.[0-9]+)\.[0-9]+)-([0-9]+)-([a-z][a-z0-9-]*)$/;

export function parseUbuntuRelease(release: string): UbuntuRelease {
  const match = RELEASE.exec(release);
  if (match?.[1] === undefined || match[2] === undefined || match[3] === undefined || match[4] === undefined) {
    throw new KernelNotFoundError(`kernel ${release} not found: not an Ubuntu kernel release (<version>-<abi>-<flavour>, e.g. 5.15.0-91-generic)`);
  }
  return { release, upstream: match[1], abi: `${match[1]}-${match[3]}`, flavour: match[4], majorMinor: match[2] };
}

/** The build number of a package version: 5.15.0-91.101 → "101", 6.8.0-49.49~22.04.1 → "49". */
export function buildNumber(packageVersion: string): string | undefined {
  return /^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+\.([0-9]+)/.exec(packageVersion)?.[1];
}

/** kernels.yaml's `version` for an Ubuntu kernel is that build number, bare or as uname -v starts ("#101"). */
export function wantedBuild(version: string | undefined): string | undefined {
  if (version === undefined) return undefined;
  return /^#?([0-9]+)/.exec(version.trim())?.[1];
}

/**
 * Which series ship kernels of each upstream version, as the main kernel or
 * an HWE/cloud backport (https://ubuntu.com/kernel/lifecycle). A version not
 * listed needs the series named in configuration (KBUILD_UBUNTU_SERIES).
 */
export const SERIES_BY_VERSION: Readonly<Record<string, readonly string[]>> = {
  '4.4': ['xenial'],
  '4.15': ['bionic', 'xenial'],
  '4.18': ['bionic'],
  '5.0': ['bionic'],
  '5.3': ['bionic'],
  '5.4': ['focal', 'bionic'],
  '5.8': ['focal'],
  '5.11': ['focal'],
  '5.13': ['focal'],
  '5.15': ['jammy', 'focal'],
  '5.19': ['jammy'],
  '6.2': ['jammy'],
  '6.5': ['jammy'],
  '6.8': ['noble', 'jammy'],
  '6.11': ['noble', 'oracular'],
  '6.14': ['noble', 'plucky'],
  '6.17': ['noble', 'questing'],
};

export const POCKETS = ['-updates', '-security', ''] as const;

/** Suites to search for a release, newest pocket first: <series>-updates, <series>-security, <series>. */
export function suitesFor(release: UbuntuRelease, configuredSeries: readonly string[] | undefined): string[] {
  const series = configuredSeries ?? SERIES_BY_VERSION[release.majorMinor];
  if (series === undefined) {
    throw new KernelNotFoundError(
      `kernel ${release.release} not found: no Ubuntu series is known to ship Linux ${release.majorMinor}`,
      { suggestions: ['Name the series to search in KBUILD_UBUNTU_SERIES (comma-separated, e.g. "noble,jammy")'] },
    );
  }
  return series.flatMap((s) => POCKETS.map((pocket) => `${s}${pocket}`));
}

/** Every series of the table, for crawling. */
export function allSeries(): string[] {
  return [...new Set(Object.values(SERIES_BY_VERSION).flat())];
}
