import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { errorMessage } from '../../errors.js';
import { createS3Client, parseS3Url, resolveS3Settings, type S3Location } from '@kbuild/loader/internal';
import type { CheckOutcome, DoctorCheck, DoctorContext } from '../types.js';

/** --store: a folder must be writable, a bucket must answer HeadBucket and a listing with the given credentials. */
export const store: DoctorCheck = {
  id: 'store',
  title: 'artifact store',
  required: (c) => c.store !== undefined,
  run: async (c) => {
    if (c.store === undefined) return { status: 'skipped', detail: 'no --store given' };
    if (c.store.startsWith('s3://')) return s3Store(c.store, c);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(c.store) && !c.store.startsWith('file://')) {
      return { status: 'problem', detail: `unsupported store URL scheme: ${c.store}`, fix: 'use a folder, file:///path or s3://bucket/prefix' };
    }
    return folderStore(c.store.startsWith('file://') ? new URL(c.store).pathname : resolve(c.store));
  },
};

async function folderStore(path: string): Promise<CheckOutcome> {
  const fix = `make ${path} writable for this user (or pass another --store)`;
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) {
    // Builds create the folder: its nearest existing parent must take a new folder (tried, not guessed from modes: root passes access()).
    let parent = dirname(path);
    while (!(await stat(parent).catch(() => undefined))) parent = dirname(parent);
    try {
      await rm(await mkdtemp(join(parent, '.kbuild-doctor-')), { recursive: true, force: true });
      return { status: 'ok', detail: `${path} does not exist yet; ${parent} is writable, so builds can create it` };
    } catch (err) {
      return { status: 'problem', detail: `${path} does not exist and ${parent} is not writable (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`, fix };
    }
  }
  if (!info.isDirectory()) return { status: 'problem', detail: `${path} is not a folder`, fix: 'pass a folder (or an s3:// URL) as --store' };
  const probe = join(path, `.kbuild-doctor-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, 'kbuild doctor\n', { flag: 'wx' });
    await rm(probe, { force: true });
    return { status: 'ok', detail: `${path} is writable` };
  } catch (err) {
    return { status: 'problem', detail: `cannot write in ${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`, fix };
  }
}

async function s3Store(url: string, c: DoctorContext): Promise<CheckOutcome> {
  const fix = 'check the bucket, the endpoint (--s3-endpoint / AWS_ENDPOINT_URL) and the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)';
  let where: S3Location;
  try {
    where = parseS3Url(url);
  } catch (err) {
    return { status: 'problem', detail: errorMessage(err), fix: 'use s3://BUCKET[/PREFIX]' };
  }
  const settings = resolveS3Settings(c.s3, c.env);
  if (settings.accessKeyId === undefined || settings.secretAccessKey === undefined) {
    return { status: 'problem', detail: `no S3 credentials for ${url} (neither flags nor AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`, fix };
  }
  const { HeadBucketCommand, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const client = await createS3Client(settings);
  const endpoint = settings.endpoint ?? 'AWS';
  try {
    await client.send(new HeadBucketCommand({ Bucket: where.bucket }), { abortSignal: c.signal });
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: where.bucket, MaxKeys: 1, ...(where.prefix === '' ? {} : { Prefix: `${where.prefix}/` }) }),
      { abortSignal: c.signal },
    );
    return { status: 'ok', detail: `${url} at ${endpoint}: bucket answers, listing works${(listed.KeyCount ?? 0) > 0 ? '' : ' (empty so far)'}` };
  } catch (err) {
    return { status: 'problem', detail: `${url} at ${endpoint}: ${s3Reason(err)}`, fix };
  } finally {
    client.destroy();
  }
}

/** The SDK's error in words an operator acts on; HeadBucket errors have no body, only a status. */
function s3Reason(err: unknown): string {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const name = e.Code ?? e.name ?? '';
  if (status === 403 || /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|Forbidden/.test(name)) {
    return `access denied (HTTP ${status ?? 403}${name === '' ? '' : `, ${name}`}): the credentials are wrong or lack access to the bucket`;
  }
  if (status === 404 || /NoSuchBucket|NotFound/.test(name)) return `no such bucket (HTTP ${status ?? 404})`;
  return `${errorMessage(err)}${status === undefined ? '' : ` (HTTP ${status})`}`;
}
