import { DEBIAN_RELEASES, type ArchiveSuite } from './suites.js';

/**
 * Debian's kernel release strings name the release they were built for:
 * `6.12.57+deb13-amd64` and `6.1.0-0.deb11.31-amd64` by number, the stable
 * kernels of a release by their upstream version (5.10.0-N: bullseye, 6.1.0-N:
 * bookworm). Searching that release's suites first spares a cold resolution
 * the download and parse of every earlier suite's ~50 MB index (a trixie
 * kernel came after eight of them). Only the order changes: every configured
 * suite is still searched when the guess misses, and within each group the
 * configured order stays.
 */

const BY_NUMBER: Readonly<Record<string, string>> = { '11': 'bullseye', '12': 'bookworm', '13': 'trixie', '14': 'forky' };
const BY_UPSTREAM: Readonly<Record<string, string>> = { '5.10.0': 'bullseye', '6.1.0': 'bookworm' };

/** The Debian release (codename) a kernel release string was built for, when it says. */
export function releaseHint(release: string): string | undefined {
  const numbered = /(?:\+deb|-0\.deb)(\d+)/.exec(release)?.[1];
  if (numbered !== undefined) return BY_NUMBER[numbered];
  const upstream = /^(\d+\.\d+\.\d+)-\d+-/.exec(release)?.[1];
  return upstream === undefined ? undefined : BY_UPSTREAM[upstream];
}

const codenameOf = (suite: string): string | undefined => DEBIAN_RELEASES.find((r) => suite === r || suite.startsWith(`${r}-`));

/** The suites with the hinted release's first, otherwise in the configured order. */
export function searchOrder(suites: readonly ArchiveSuite[], release: string): readonly ArchiveSuite[] {
  const hint = releaseHint(release);
  if (hint === undefined) return suites;
  const first = suites.filter((s) => codenameOf(s.suite) === hint);
  return [...first, ...suites.filter((s) => codenameOf(s.suite) !== hint)];
}
