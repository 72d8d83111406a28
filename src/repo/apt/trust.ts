import { createLogger } from '../../log.js';
import type { TrustOptions } from './release.js';

/** Trust settings of an apt archive builder; each also read from KBUILD_<ARCHIVE>_* variables. */
export interface AptTrustSettings {
  readonly env?: NodeJS.ProcessEnv;
  /** Keyrings that may sign InRelease; else KBUILD_<ARCHIVE>_KEYRING (colon-separated), else the archive's own keyring. */
  readonly keyrings?: readonly string[];
  /** Read indexes without InRelease or signature check; else KBUILD_<ARCHIVE>_ALLOW_UNSIGNED=1. Off by default. */
  readonly allowUnsigned?: boolean;
  /** Accept a Release past its Valid-Until (snapshot mirrors); else KBUILD_<ARCHIVE>_IGNORE_VALID_UNTIL=1. */
  readonly ignoreValidUntil?: boolean;
  /** Where trust warnings go; the process logger by default, since BuilderContext.log is info-level. */
  readonly onWarning?: (message: string, fields: Record<string, unknown>) => void;
}

let defaultLogger: ReturnType<typeof createLogger> | undefined;
function logWarning(message: string, fields: Record<string, unknown>): void {
  defaultLogger ??= createLogger();
  defaultLogger.warn(fields, message);
}

/** Options win over the environment; verification is on unless something turns it off. */
export function aptTrust(archive: string, defaultKeyring: string, settings: AptTrustSettings): TrustOptions {
  const env = settings.env ?? process.env;
  const prefix = `KBUILD_${archive.toUpperCase()}_`;
  const fromEnv = env[`${prefix}KEYRING`]?.split(':').filter((k) => k !== '');
  const keyrings = settings.keyrings ?? (fromEnv !== undefined && fromEnv.length > 0 ? fromEnv : [defaultKeyring]);
  return {
    archive,
    keyrings,
    allowUnsigned: settings.allowUnsigned ?? env[`${prefix}ALLOW_UNSIGNED`] === '1',
    checkValidUntil: !(settings.ignoreValidUntil ?? env[`${prefix}IGNORE_VALID_UNTIL`] === '1'),
    warn: settings.onWarning ?? logWarning,
  };
}
