import { editDistance } from './edit-distance.js';

/**
 * Errors a user can act on carry a stable code, an exit code and optional
 * suggestions; a CLI's top-level handler decides how they look. The loader
 * owns the base class so an agent can `instanceof KbuildError` and switch on
 * `code`; the farm's own errors extend it.
 */
export interface KbuildErrorOptions {
  readonly suggestions?: readonly string[];
  readonly exitCode?: number;
  readonly cause?: unknown;
  /** Retrying the same operation could succeed (network, 5xx). */
  readonly retryable?: boolean;
}

/**
 * The codes the loader raises, each stable across releases (agents switch on
 * them). Exit codes as `kbuild pick` / `fetch` use them: 2 bad input, 3 nothing
 * this host can run, 4 something downloaded was refused.
 */
export const LoaderErrorCode = {
  /** The probe name is not in the index at all (a typo, or an index of another project); exit 2. */
  UNKNOWN_PROBE: 'E_UNKNOWN_PROBE',
  /** The index has the probe, but nothing of it runs on this host; the message lists every rejection; exit 3. */
  UNSUPPORTED_KERNEL: 'E_UNSUPPORTED_KERNEL',
  /** The index lists no artifacts; exit 3. */
  EMPTY_INDEX: 'E_EMPTY_INDEX',
  /** Neither a public key nor an explicit opt-out of signature checks was given; exit 2. */
  NO_PUBLIC_KEY: 'E_NO_PUBLIC_KEY',
  /** The public key cannot be read or is not ed25519; exit 2. */
  PUBLIC_KEY: 'E_PUBLIC_KEY',
  /** The signature does not match the index (tampered or corrupted), or is not a kbuild signature; exit 4. */
  INDEX_SIGNATURE: 'E_INDEX_SIGNATURE',
  /** A public key was given but the index has no signature; exit 4. */
  INDEX_UNSIGNED: 'E_INDEX_UNSIGNED',
  /** Signed by another key than the trusted one (a key rotation, or a foreign index); exit 4. */
  INDEX_WRONG_KEY: 'E_INDEX_WRONG_KEY',
  /** Not JSON, or not a kbuild index of a version this loader reads; exit 4. */
  INDEX_FORMAT: 'E_INDEX_FORMAT',
  /** No index.json where it was looked for; exit 2. */
  INDEX_NOT_FOUND: 'E_INDEX_NOT_FOUND',
  /** The index location is not a path, file://, http(s):// or s3:// URL; exit 2. */
  INDEX_URL: 'E_INDEX_URL',
  /** A file exists but cannot be read (permissions, a folder where a file was expected). */
  INDEX_READ: 'E_INDEX_READ',
  /** An artifact has another size than the index lists; exit 4. */
  ARTIFACT_SIZE: 'E_ARTIFACT_SIZE',
  /** An artifact has another sha256 than the index lists; exit 4. */
  ARTIFACT_SHA256: 'E_ARTIFACT_SHA256',
  /** The index lists an artifact the store does not hold. */
  ARTIFACT_MISSING: 'E_ARTIFACT_MISSING',
  /** A shard or trie node of the index manifest has another size or sha256 than its signed parent lists (tampered or corrupted); exit 4. */
  SHARD_INTEGRITY: 'E_SHARD_INTEGRITY',
  /** The index manifest lists a shard or trie node the store does not hold. */
  SHARD_MISSING: 'E_SHARD_MISSING',
  /** More bytes than allowed (an index over 64 MiB, a signature over 4 KiB). */
  SIZE_LIMIT: 'E_SIZE_LIMIT',
  /** An s3:// URL with an invalid bucket or prefix; exit 2. */
  S3_URL: 'E_S3_URL',
  /** An S3 request failed (retryable), or the optional `@aws-sdk/client-s3` is not installed (exit 2). */
  S3: 'E_S3',
  /** Network failure or an HTTP 5xx after the retries (retryable). */
  NETWORK: 'E_NETWORK',
  /** An HTTP status that retrying cannot change (403, 404 as E_HTTP_NOT_FOUND). */
  HTTP_STATUS: 'E_HTTP_STATUS',
  HTTP_NOT_FOUND: 'E_HTTP_NOT_FOUND',
  /** Downloaded bytes differ from what was expected (HTTP client). */
  CHECKSUM: 'E_CHECKSUM',
  /** A full disk, a quota or a read-only filesystem where the cache is written. */
  DISK: 'E_DISK',
} as const;
export type LoaderErrorCode = (typeof LoaderErrorCode)[keyof typeof LoaderErrorCode];

export class KbuildError extends Error {
  readonly code: string;
  readonly suggestions: readonly string[];
  readonly exitCode: number;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: KbuildErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.suggestions = options.suggestions ?? [];
    this.exitCode = options.exitCode ?? 1;
    this.retryable = options.retryable ?? false;
  }
}

/** Downloaded bytes differ from what the archive's index promised. */
export class ChecksumError extends KbuildError {
  constructor(message: string, options: KbuildErrorOptions = {}) {
    super(LoaderErrorCode.CHECKSUM, message, options);
  }
}

/** Network failure or a 5xx: worth retrying. */
export class NetworkError extends KbuildError {
  constructor(message: string, options: KbuildErrorOptions = {}) {
    super(LoaderErrorCode.NETWORK, message, { retryable: true, ...options });
  }
}

/**
 * Something downloaded is not what the signed index promises: a bad or missing
 * signature, a key that is not the trusted one, an artifact of the wrong size
 * or sha256. Exit code 4, apart from usage errors and "nothing fits this host".
 */
export class IntegrityError extends KbuildError {
  constructor(code: string, message: string, options: KbuildErrorOptions = {}) {
    super(code, message, { exitCode: 4, ...options });
  }
}

/** Not JSON, or not a kbuild index this loader reads. */
export class IndexFormatError extends IntegrityError {
  constructor(message: string, options: KbuildErrorOptions = {}) {
    super(LoaderErrorCode.INDEX_FORMAT, message, options);
  }
}

/** The probe is not in the index at all: a typo is not an unsupported kernel. */
export class UnknownProbeError extends KbuildError {
  readonly probe: string;
  /** The probes the index does list. */
  readonly known: readonly string[];
  constructor(probe: string, known: readonly string[], options: KbuildErrorOptions = {}) {
    const near = known.filter((name) => editDistance(name, probe) <= Math.max(2, Math.floor(probe.length / 3)));
    super(LoaderErrorCode.UNKNOWN_PROBE, `the index has no probe "${probe}" (it lists ${known.length === 0 ? 'none' : known.join(', ')})`, {
      exitCode: 2,
      suggestions: near.length === 0 ? [] : [`Did you mean ${near.map((n) => `"${n}"`).join(' or ')}?`],
      ...options,
    });
    this.probe = probe;
    this.known = known;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const DISK_ERRNO = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

/** A full disk (or quota, or read-only filesystem): retrying the same write cannot help, and the message names where. */
export class DiskError extends KbuildError {
  constructor(path: string, errno: string, options: KbuildErrorOptions = {}) {
    const what = errno === 'ENOSPC' ? 'no space left on the device' : errno === 'EDQUOT' ? 'disk quota exceeded' : 'read-only filesystem';
    super(LoaderErrorCode.DISK, `cannot write ${path}: ${what} (${errno})`, {
      suggestions: ['Free space on that filesystem (or point TMPDIR / KBUILD_CACHE_DIR / the store elsewhere), then run again'],
      ...options,
    });
  }
}

/** `err` as a DiskError naming `path` when it is a full disk (or quota, read-only filesystem); else unchanged. */
export function asDiskError(err: unknown, path: string): unknown {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if (err instanceof KbuildError || typeof errno !== 'string' || !DISK_ERRNO.has(errno)) return err;
  return new DiskError(path, errno, { cause: err });
}
