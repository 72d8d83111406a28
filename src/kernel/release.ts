/**
 * Kernel release strings (as `uname -r` prints them) become file names, S3 keys
 * and container mount paths, so they are validated strictly here and nowhere
 * else re-parsed by hand.
 */

/** Starts with major.minor, then only characters seen in real releases; no `/`, no `..`. */
export const RELEASE_PATTERN = /^[0-9]+\.[0-9]+(?:\.[0-9]+)?(?:[-+~_.][A-Za-z0-9]+)*$/;
export const RELEASE_MAX_LENGTH = 128;

export function releaseProblem(release: string): string | undefined {
  if (release.length === 0) return 'is empty';
  if (release.length > RELEASE_MAX_LENGTH) return `is longer than ${RELEASE_MAX_LENGTH} characters`;
  if (release.includes('/')) return 'contains "/"';
  if (release.includes('..')) return 'contains ".."';
  if (!RELEASE_PATTERN.test(release)) {
    return 'is not a kernel release such as 6.1.0-50-amd64 (digits.digits, then letters, digits and - + ~ _ .)';
  }
  return undefined;
}

export interface KernelVersionTriple {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

export function parseReleaseVersion(release: string): KernelVersionTriple {
  const match = /^([0-9]+)\.([0-9]+)(?:\.([0-9]+))?/.exec(release);
  if (match === null) throw new Error(`not a kernel release: ${release}`);
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? '0') };
}

/** The kernel's own KERNEL_VERSION macro: the sublevel saturates at 255 since 4.9.256. */
export function versionCode(version: KernelVersionTriple): number {
  return version.major * 65536 + version.minor * 256 + Math.min(version.patch, 255);
}

export function compareVersions(a: KernelVersionTriple, b: KernelVersionTriple): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}
