import { access } from 'node:fs/promises';
import { fetchBuffer, isNotFound, type HttpOptions } from '@kbuild/loader/internal';
import { UntrustedReleaseError } from './errors.js';
import { verifyClearSigned } from './gpgv.js';

/**
 * A suite's InRelease (https://wiki.debian.org/DebianRepository/Format#A.22Release.22_files)
 * is the root of apt's trust chain: signed by the archive keys, it lists the
 * size and SHA256 of every index, which in turn list the hash of every .deb.
 * The mirror is plain http, so without this step whoever sits on the path
 * could swap an index and its packages together.
 */

/** An InRelease is ~200 KB; anything far bigger is not one, and must not fill memory. */
const MAX_INRELEASE_BYTES = 8 * 1024 * 1024;

export interface TrustOptions {
  /** Which archive this is ("debian", "ubuntu"), for messages and the KBUILD_<ARCHIVE>_* hints. */
  readonly archive: string;
  /** Binary OpenPGP keyrings (as `gpg --export` writes them) whose keys may sign. */
  readonly keyrings: readonly string[];
  /** Skip InRelease entirely and take Packages.xz as served: for private mirrors that do not sign. */
  readonly allowUnsigned: boolean;
  /** Refuse a Release past its Valid-Until; off only for snapshot mirrors of expired suites. */
  readonly checkValidUntil: boolean;
  readonly warn: (message: string, fields: Record<string, unknown>) => void;
}

export interface ReleaseEntry {
  readonly sha256: string;
  readonly size: number;
}

export interface Release {
  readonly suite?: string;
  readonly codename?: string;
  /** Milliseconds since the epoch; NaN when the field is present but unreadable. */
  readonly validUntil?: number;
  readonly acquireByHash: boolean;
  /** Path under dists/<suite>/ → expected content. */
  readonly sha256: ReadonlyMap<string, ReleaseEntry>;
}

/** Reads the first stanza of a Release file; the SHA256 field spans continuation lines. */
export function parseRelease(text: string): Release {
  const fields = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (fields.size > 0) break;
      continue;
    }
    if (/^[ \t]/.test(line)) {
      current?.push(line.trim());
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    current = [line.slice(colon + 1).trim()];
    fields.set(line.slice(0, colon).toLowerCase(), current);
  }
  const first = (name: string): string | undefined => fields.get(name)?.[0];
  const sha256 = new Map<string, ReleaseEntry>();
  for (const line of fields.get('sha256') ?? []) {
    const match = /^([0-9a-fA-F]{64})\s+([0-9]+)\s+(\S+)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined && match[3] !== undefined) {
      sha256.set(match[3], { sha256: match[1].toLowerCase(), size: Number(match[2]) });
    }
  }
  const validUntil = first('valid-until');
  const suite = first('suite');
  const codename = first('codename');
  return {
    ...(suite === undefined ? {} : { suite }),
    ...(codename === undefined ? {} : { codename }),
    ...(validUntil === undefined ? {} : { validUntil: Date.parse(validUntil) }),
    acquireByHash: first('acquire-by-hash')?.toLowerCase() === 'yes',
    sha256,
  };
}

export interface ReleaseLocation {
  readonly mirror: string;
  readonly suite: string;
}

export type ReleaseResult =
  | { readonly release: Release; readonly signers: readonly string[]; readonly bytes: number }
  | { readonly skipped: string };

const envName = (archive: string, what: string): string => `KBUILD_${archive.toUpperCase()}_${what}`;

function suggestions(archive: string): string[] {
  return [
    `${archive}'s own mirror: install or update ${archive}-archive-keyring (new releases are signed by new keys)`,
    `A private mirror: point ${envName(archive, 'KEYRING')} (colon-separated) at its signing key, exported with \`gpg --export\``,
    `A mirror that does not sign at all: set ${envName(archive, 'ALLOW_UNSIGNED')}=1 (nothing then protects the packages on plain http)`,
    'If the keyring is right, the mirror or the network path to it serves altered files: do not disable the check',
  ];
}

async function requireKeyrings(trust: TrustOptions, location: ReleaseLocation): Promise<void> {
  const { archive, keyrings } = trust;
  if (keyrings.length === 0) {
    throw new UntrustedReleaseError('keyring', `no keyring configured to verify ${archive} ${location.suite} from ${location.mirror}`, {
      suggestions: suggestions(archive),
    });
  }
  for (const keyring of keyrings) {
    await access(keyring).catch((err: unknown) => {
      throw new UntrustedReleaseError('keyring', `keyring ${keyring} (to verify ${archive} ${location.suite} from ${location.mirror}) is missing`, {
        cause: err,
        suggestions: [`apt-get install ${archive}-archive-keyring, or set ${envName(archive, 'KEYRING')} to a keyring that exists`],
      });
    });
  }
}

/**
 * Fetches and verifies dists/<suite>/InRelease. A suite the mirror lacks, or
 * whose Release has expired, is skipped (the caller searches the others);
 * anything that smells of tampering throws.
 */
export async function loadRelease(location: ReleaseLocation, http: HttpOptions, trust: TrustOptions): Promise<ReleaseResult> {
  const { mirror, suite } = location;
  const { archive } = trust;
  await requireKeyrings(trust, location);
  const url = `${mirror}/dists/${suite}/InRelease`;
  let signed: Buffer;
  try {
    signed = await fetchBuffer(url, http, { maxBytes: MAX_INRELEASE_BYTES });
  } catch (err) {
    if (isNotFound(err)) return { skipped: 'no InRelease' };
    throw err;
  }
  const verified = await verifyClearSigned(signed, { keyrings: trust.keyrings, ...(http.signal === undefined ? {} : { signal: http.signal }) });
  if (!verified.ok) {
    const reason = verified.problem.startsWith('not a clear-signed file') ? 'format' : 'signature';
    throw new UntrustedReleaseError(
      reason,
      `${archive} ${suite} from ${mirror} cannot be trusted: ${url}: ${verified.problem} (keyrings: ${trust.keyrings.join(', ')}). ` +
        `Install or update ${archive}-archive-keyring, or set ${envName(archive, 'KEYRING')} to the keyring of the key that signs this mirror`,
      { suggestions: suggestions(archive) },
    );
  }
  const release = parseRelease(verified.text);
  if (release.suite !== suite && release.codename !== suite) {
    throw new UntrustedReleaseError(
      'suite',
      `${archive} ${suite} from ${mirror}: ${url} is signed for suite ${release.suite ?? '?'} (codename ${release.codename ?? '?'}), ` +
        `not ${suite}: an index of another suite replayed, or a mirror that maps suites wrongly`,
      { suggestions: [`Check the mirror URL and the suites configured for the ${archive} builder`] },
    );
  }
  if (release.validUntil !== undefined && trust.checkValidUntil) {
    if (Number.isNaN(release.validUntil)) {
      throw new UntrustedReleaseError('format', `${archive} ${suite} from ${mirror}: ${url} has an unreadable Valid-Until`);
    }
    if (Date.now() >= release.validUntil) {
      const since = new Date(release.validUntil).toISOString();
      trust.warn(`${archive} Release expired, suite skipped`, { suite, mirror, validUntil: since });
      return { skipped: `Release expired on ${since}: a stale mirror or a replayed index` };
    }
  }
  return { release, signers: verified.signers, bytes: signed.length };
}
