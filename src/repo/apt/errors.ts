import { KbuildError, type KbuildErrorOptions } from '../../errors.js';

/**
 * Why a suite's InRelease could not be trusted. None of these is retryable:
 * fetching the same bytes again gives the same answer, and a retry loop would
 * only hide an attack or a misconfiguration.
 */
export type UntrustedReason =
  /** No good signature from a key in the keyrings (bad, unknown, expired or weak). */
  | 'signature'
  /** Not one clear-signed message: data outside the signature, or not OpenPGP at all. */
  | 'format'
  /** Validly signed, but for another suite: a replayed index, or a mirror path mix-up. */
  | 'suite'
  /** A keyring file to verify against is missing. */
  | 'keyring';

export class UntrustedReleaseError extends KbuildError {
  readonly reason: UntrustedReason;
  constructor(reason: UntrustedReason, message: string, options: KbuildErrorOptions = {}) {
    super('E_APT_UNTRUSTED', message, { ...options, retryable: false });
    this.reason = reason;
  }
}

/** No suite searched lists the source or binary package (at that version): retrying cannot help. */
export class PackageNotFoundError extends KbuildError {
  /** Versions that do exist, "<version> (<suite>)", so the message can say what to ask for instead. */
  readonly available: readonly string[];
  constructor(message: string, available: readonly string[], options: KbuildErrorOptions = {}) {
    super('E_APT_PACKAGE_NOT_FOUND', message, { ...options, retryable: false });
    this.available = available;
  }
}
