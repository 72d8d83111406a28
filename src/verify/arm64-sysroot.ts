import { KbuildError } from '../errors.js';

/** Where the arm64 sysroot's Debian packages come from. */
export interface SysrootOptions {
  readonly cacheDir: string;
  readonly mirror?: string;
  readonly signal?: AbortSignal;
}

export interface Sysroot {
  readonly flags: readonly string[];
  readonly identity: readonly string[];
}

export async function arm64Sysroot(_options: SysrootOptions): Promise<Sysroot> {
  throw new KbuildError('E_NOT_SUPPORTED', 'the arm64 guest loader is not built yet');
}
