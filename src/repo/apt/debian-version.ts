/**
 * Debian version strings ([epoch:]upstream[-revision]) ordered as dpkg orders
 * them (deb-version(7)): picking "the newest 1.5.0" among 1.5.0-1, 1.5.0-3
 * and 1:1.5.0-1~bpo12+1 needs dpkg's rules, not a string or semver compare.
 */

export interface DebianVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

export function parseDebianVersion(version: string): DebianVersion {
  const colon = version.indexOf(':');
  const epoch = colon > 0 ? Number(version.slice(0, colon)) : 0;
  const rest = colon > 0 ? version.slice(colon + 1) : version;
  const dash = rest.lastIndexOf('-');
  return {
    epoch: Number.isInteger(epoch) ? epoch : 0,
    upstream: dash > 0 ? rest.slice(0, dash) : rest,
    revision: dash > 0 ? rest.slice(dash + 1) : '',
  };
}

/** "1:7.0.10-1+deb13u4" → "7.0.10". */
export function upstreamVersion(version: string): string {
  return parseDebianVersion(version).upstream;
}

/** dpkg's character order: '~' before everything (even the end), letters before other symbols. */
function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function comparePart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // Non-digit prefixes, character by character.
    while ((i < a.length && !/[0-9]/.test(a[i] ?? '')) || (j < b.length && !/[0-9]/.test(b[j] ?? ''))) {
      const ca = i < a.length && !/[0-9]/.test(a[i] ?? '') ? a[i] : undefined;
      const cb = j < b.length && !/[0-9]/.test(b[j] ?? '') ? b[j] : undefined;
      const diff = order(ca) - order(cb);
      if (diff !== 0) return diff;
      i++;
      j++;
    }
    // Then the digit runs, as numbers.
    const da = /^[0-9]*/.exec(a.slice(i))?.[0] ?? '';
    const db = /^[0-9]*/.exec(b.slice(j))?.[0] ?? '';
    i += da.length;
    j += db.length;
    const diff = Number(da || '0') - Number(db || '0');
    if (diff !== 0) return diff;
  }
  return 0;
}

/** Negative when a < b, 0 when equal, positive when a > b (dpkg --compare-versions). */
export function compareDebianVersions(a: string, b: string): number {
  const va = parseDebianVersion(a);
  const vb = parseDebianVersion(b);
  if (va.epoch !== vb.epoch) return va.epoch - vb.epoch;
  return comparePart(va.upstream, vb.upstream) || comparePart(va.revision, vb.revision);
}
