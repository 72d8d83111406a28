import { ConfigError } from '../../src/errors.js';
import type { BuilderContext } from '../types.js';
import { findMirror, findSecurityMirror } from './mirror.js';
import type { DebianBuilderOptions } from './trust.js';

/**
 * Which suites the Debian builder searches, and under which archive root.
 * A fleet runs what Debian ships now: the point-release suites, their
 * -updates, -security (a separate root, debian-security) and -backports,
 * and testing/unstable on a few hosts. Each suite has its own signed
 * InRelease, checked like any other.
 */

/** oldoldstable, oldstable, stable, testing and unstable by codename (their alias folders can lag on a mirror). */
export const DEBIAN_RELEASES = ['bullseye', 'bookworm', 'trixie', 'forky', 'sid'] as const;
const POCKETS = ['', '-security', '-updates', '-backports'] as const;

/** In search order: each release with its pockets; unstable has none. A pocket a mirror lacks is skipped. */
export const DEFAULT_SUITES: readonly string[] = DEBIAN_RELEASES.flatMap((release) =>
  release === 'sid' ? [release] : POCKETS.map((pocket) => `${release}${pocket}`),
);

const SUITE_NAME = /^[a-z][a-z0-9.-]{0,63}$/;

export interface ArchiveSuite {
  readonly suite: string;
  /** Archive root the suite's dists/ and pool/ are under. */
  readonly mirror: string;
}

export interface SuitePlan {
  /** The main archive's root: names the cached resolutions, and messages. */
  readonly mirror: string;
  readonly suites: readonly ArchiveSuite[];
  /** Configured suites that cannot be searched, as "suite (why)". */
  readonly unavailable: readonly string[];
}

export const isSecuritySuite = (suite: string): boolean => suite.endsWith('-security');

/** The builder's `suites` option, else KBUILD_DEBIAN_SUITES (comma- or space-separated), else DEFAULT_SUITES. */
export function configuredSuites(options: DebianBuilderOptions): readonly string[] {
  if (options.suites !== undefined) return options.suites;
  const raw = (options.env ?? process.env)['KBUILD_DEBIAN_SUITES'];
  if (raw === undefined || raw.trim() === '') return DEFAULT_SUITES;
  const suites = raw.split(/[\s,]+/).filter((s) => s !== '');
  const bad = suites.find((s) => !SUITE_NAME.test(s));
  if (bad !== undefined) throw new ConfigError(`KBUILD_DEBIAN_SUITES: ${JSON.stringify(bad)} is not a suite name such as bookworm-security`);
  return suites;
}

/** The configured suites with their roots: *-security under the security root, the rest under the main mirror. */
export async function suitePlan(context: BuilderContext, options: DebianBuilderOptions): Promise<SuitePlan> {
  const lookup = {
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.aptRoot === undefined ? {} : { aptRoot: options.aptRoot }),
  };
  const mirror = await findMirror({ ...lookup, ...(context.mirror === undefined ? {} : { configured: context.mirror }) });
  const names = configuredSuites(options);
  const security = names.some(isSecuritySuite)
    ? await findSecurityMirror({ ...lookup, ...(options.securityMirror === undefined ? {} : { configured: options.securityMirror }) })
    : undefined;
  const suites: ArchiveSuite[] = [];
  const unavailable: string[] = [];
  for (const suite of names) {
    if (!isSecuritySuite(suite)) suites.push({ suite, mirror: mirror.url });
    else if (security !== undefined) suites.push({ suite, mirror: security.url });
    else unavailable.push(`${suite} (no security archive: set KBUILD_DEBIAN_SECURITY_MIRROR or add a *-security apt source)`);
  }
  return { mirror: mirror.url, suites, unavailable };
}
