/**
 * Errors a user can act on carry a stable code, an exit code and optional
 * suggestions; the CLI's top-level handler decides how they look. Anything
 * that is not a KbuildError is treated as a bug.
 */
export interface KbuildErrorOptions {
  readonly suggestions?: readonly string[];
  readonly exitCode?: number;
  readonly cause?: unknown;
  /** Retrying the same operation could succeed (network, 5xx). */
  readonly retryable?: boolean;
}

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

/** Bad kernels.yaml or flags: exit code 2, like a usage error. */
export class ConfigError extends KbuildError {
  constructor(message: string, options: KbuildErrorOptions = {}) {
    super('E_CONFIG', message, { exitCode: 2, ...options });
  }
}

/** The archive has no such kernel: retrying cannot help. */
export class KernelNotFoundError extends KbuildError {
  constructor(message: string, options: KbuildErrorOptions = {}) {
    super('E_KERNEL_NOT_FOUND', message, options);
  }
}

/** Downloaded bytes differ from what the archive's index promised. */
export class ChecksumError extends KbuildError {
  constructor(message: string, options: KbuildErrorOptions = {}) {
    super('E_CHECKSUM', message, options);
  }
}

/** Network failure or a 5xx: worth retrying. */
export class NetworkError extends KbuildError {
  constructor(message: string, options: KbuildErrorOptions = {}) {
    super('E_NETWORK', message, { retryable: true, ...options });
  }
}

/** A package or image whose contents are malformed or hostile. */
export class ArchiveError extends KbuildError {
  constructor(message: string, options: KbuildErrorOptions = {}) {
    super('E_ARCHIVE', message, options);
  }
}

/** The compiler rejected the probe; the message keeps the compiler's output. */
export class CompileError extends KbuildError {
  readonly output: string;
  constructor(message: string, output: string, options: KbuildErrorOptions = {}) {
    super('E_COMPILE', message, options);
    this.output = output;
  }
}

/** A builder cannot do this for its distro (yet): retrying cannot help. */
export class NotSupportedError extends KbuildError {
  constructor(message: string, options: KbuildErrorOptions = {}) {
    super('E_NOT_SUPPORTED', message, options);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** No Docker engine answers (not installed, not started, wrong DOCKER_HOST). */
export class DockerUnavailableError extends KbuildError {
  constructor(message: string, options: KbuildErrorOptions = {}) {
    super('E_DOCKER_UNAVAILABLE', message, {
      suggestions: ['Start an engine with `bash scripts/dockerd.sh start` (installed by scripts/setup.sh), or set DOCKER_HOST'],
      ...options,
    });
  }
}

/** A builder image is missing or could not be built. */
export class ImageError extends KbuildError {
  constructor(message: string, options: KbuildErrorOptions = {}) {
    super('E_IMAGE', message, options);
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

const DISK_ERRNO = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

/** A full disk (or quota, or read-only filesystem): retrying the same write cannot help, and the message names where. */
export class DiskError extends KbuildError {
  constructor(path: string, errno: string, options: KbuildErrorOptions = {}) {
    const what = errno === 'ENOSPC' ? 'no space left on the device' : errno === 'EDQUOT' ? 'disk quota exceeded' : 'read-only filesystem';
    super('E_DISK', `cannot write ${path}: ${what} (${errno})`, {
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
