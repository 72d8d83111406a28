import type { HttpOptions } from '@kbuild/loader/internal';
import type { TrustOptions } from '../../src/repo/apt/release.js';
import { aptTrust, type AptTrustSettings } from '../../src/repo/apt/trust.js';

/** Debian's archive keys, from the debian-archive-keyring package. */
export const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export interface DebianBuilderOptions extends AptTrustSettings {
  /** Suites searched in order, the first that lists the kernel wins; else KBUILD_DEBIAN_SUITES, else suites.ts's default. */
  readonly suites?: readonly string[];
  /** Root of the *-security suites; else KBUILD_DEBIAN_SECURITY_MIRROR, else the host's apt sources. */
  readonly securityMirror?: string;
  readonly http?: HttpOptions;
  /** How long a cached Packages index is trusted before it is fetched again. */
  readonly indexTtlMs?: number;
  /** Folder holding etc/apt/ for the mirror lookup; "/" by default. */
  readonly aptRoot?: string;
}

/** Options win over the environment (KBUILD_DEBIAN_KEYRING, ..._ALLOW_UNSIGNED, ..._IGNORE_VALID_UNTIL). */
export function trustOptions(options: DebianBuilderOptions): TrustOptions {
  return aptTrust('debian', DEFAULT_KEYRING, options);
}

