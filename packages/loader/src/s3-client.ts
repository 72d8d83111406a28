import type { S3Client } from '@aws-sdk/client-s3';
import { KbuildError, LoaderErrorCode, type KbuildErrorOptions } from './errors.js';

/**
 * Where an `s3://bucket/prefix` URL points and how to reach it. Shared by the
 * farm's S3 store and the loader; the SDK is imported only when an s3:// URL
 * is actually used, so an agent reading from a file or HTTP never loads it
 * (nor needs it installed: it is an optional peer dependency of the loader).
 */
export interface S3Location {
  readonly bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket's root. */
  readonly prefix: string;
}

/** Flags win over the environment; anything unset falls back to the SDK's own defaults. */
export interface S3Settings {
  readonly endpoint?: string;
  readonly region?: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly sessionToken?: string;
  /** `http://host/bucket/key` instead of `http://bucket.host/key`; what most S3 servers besides AWS need. */
  readonly forcePathStyle?: boolean;
}

/** S3's bucket naming rules (3-63 lowercase letters, digits, dots, hyphens). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** An s3:// URL with an invalid bucket or prefix: a usage error. */
export class S3UrlError extends KbuildError {
  constructor(message: string, options: KbuildErrorOptions = {}) {
    super(LoaderErrorCode.S3_URL, message, { exitCode: 2, ...options });
  }
}

type S3Sdk = typeof import('@aws-sdk/client-s3');

/** The S3 SDK, loaded on first use; an agent that never reads s3:// does not need it installed. */
export async function loadS3Sdk(): Promise<S3Sdk> {
  try {
    return await import('@aws-sdk/client-s3');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new KbuildError(LoaderErrorCode.S3, 'reading s3:// needs the package @aws-sdk/client-s3, which is not installed', {
      exitCode: 2,
      cause: err,
      suggestions: ['npm install @aws-sdk/client-s3 (an optional peer dependency of @kbuild/loader)'],
    });
  }
}

export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  const bucket = match?.[1];
  if (bucket === undefined || !BUCKET.test(bucket)) {
    throw new S3UrlError(`${url}: expected s3://BUCKET[/PREFIX] with a valid bucket name`);
  }
  const prefix = (match?.[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((part) => part === '..' || part === '.') || prefix.includes('//')) {
    throw new S3UrlError(`${url}: the prefix must not contain "." or ".." parts or "//"`);
  }
  return { bucket, prefix };
}

export function objectKey(location: S3Location, key: string): string {
  return location.prefix === '' ? key : `${location.prefix}/${key}`;
}

function flag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  return /^(1|true|yes)$/i.test(value);
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);

/**
 * Flags, then the standard AWS variables (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL,
 * AWS_REGION, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN) and AWS_S3_FORCE_PATH_STYLE. A custom endpoint implies
 * path-style unless told otherwise: self-hosted servers rarely have per-bucket DNS.
 */
export function resolveS3Settings(given: S3Settings = {}, env: NodeJS.ProcessEnv = process.env): S3Settings {
  const endpoint = given.endpoint ?? nonEmpty(env['AWS_ENDPOINT_URL_S3']) ?? nonEmpty(env['AWS_ENDPOINT_URL']);
  const region = given.region ?? nonEmpty(env['AWS_REGION']) ?? nonEmpty(env['AWS_DEFAULT_REGION']) ?? 'us-east-1';
  const accessKeyId = given.accessKeyId ?? nonEmpty(env['AWS_ACCESS_KEY_ID']);
  const secretAccessKey = given.secretAccessKey ?? nonEmpty(env['AWS_SECRET_ACCESS_KEY']);
  const sessionToken = given.sessionToken ?? nonEmpty(env['AWS_SESSION_TOKEN']);
  const forcePathStyle = given.forcePathStyle ?? flag(env['AWS_S3_FORCE_PATH_STYLE']) ?? endpoint !== undefined;
  return {
    ...(endpoint === undefined ? {} : { endpoint }),
    region,
    ...(accessKeyId === undefined ? {} : { accessKeyId }),
    ...(secretAccessKey === undefined ? {} : { secretAccessKey }),
    ...(sessionToken === undefined ? {} : { sessionToken }),
    forcePathStyle,
  };
}

export async function createS3Client(settings: S3Settings): Promise<S3Client> {
  const { S3Client } = await loadS3Sdk();
  const { accessKeyId, secretAccessKey, sessionToken } = settings;
  return new S3Client({
    region: settings.region ?? 'us-east-1',
    forcePathStyle: settings.forcePathStyle ?? false,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    // Without explicit keys the SDK's own chain applies (profiles, instance roles).
    ...(accessKeyId !== undefined && secretAccessKey !== undefined
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) } }
      : {}),
    // Checksums only where S3 requires them: S3-compatible servers differ in which they accept.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** S3 answers a missing key with NoSuchKey (GET) or a bare 404 (HEAD). */
export function isS3NotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
