/**
 * The farm's errors. The base class, the errors the loader raises too (network,
 * checksum, integrity, disk) and their codes live in @kbuild/loader, so an agent
 * and the farm share one `instanceof KbuildError`.
 */
export {
  KbuildError,
  ChecksumError,
  NetworkError,
  IntegrityError,
  DiskError,
  asDiskError,
  errorMessage,
  type KbuildErrorOptions,
} from '@kbuild/loader/internal';
import { KbuildError, type KbuildErrorOptions } from '@kbuild/loader/internal';

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
