import type { S3Client } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { KbuildError, errorMessage } from '../errors.js';
import { publishTransfer } from '../progress/transfer-channel.js';
import { createS3Client, isS3NotFound, objectKey, type S3Location, type S3Settings } from '@kbuild/loader/internal';
import { assertSafeKey } from './keys.js';
import type { ArtifactStore, StoreObjectInfo } from './types.js';

/**
 * A bucket (and prefix) as a store. A PUT replaces an object whole, so readers
 * see the old bytes or the new ones, never a part: the same promise as the
 * filesystem store's rename. Publishing writes artifacts, then records, then
 * the index, so the index never names an object that is not complete.
 */
export class S3Store implements ArtifactStore {
  readonly location: string;
  private closed = false;

  private constructor(
    private readonly client: S3Client,
    private readonly where: S3Location,
  ) {
    this.location = `s3://${where.bucket}${where.prefix === '' ? '' : `/${where.prefix}`}`;
  }

  static async open(where: S3Location, settings: S3Settings): Promise<S3Store> {
    return new S3Store(await createS3Client(settings), where);
  }

  private key(key: string): string {
    return objectKey(this.where, assertSafeKey(key));
  }

  async putFile(key: string, sourcePath: string): Promise<void> {
    await this.putBytes(key, await readFile(sourcePath));
  }

  async putBytes(key: string, bytes: Uint8Array): Promise<void> {
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    // One PUT per object (artifacts are small): progress is a start and an end per object, not bytes.
    const progress = { direction: 'upload', target: `${this.location}/${key}`, total: bytes.length } as const;
    publishTransfer({ ...progress, phase: 'start', bytes: 0 });
    try {
      await this.call('PUT', key, () =>
        this.client.send(new PutObjectCommand({ Bucket: this.where.bucket, Key: this.key(key), Body: bytes, ContentLength: bytes.length })),
      );
    } catch (err) {
      publishTransfer({ ...progress, phase: 'error', bytes: 0 });
      throw err;
    }
    publishTransfer({ ...progress, phase: 'end', bytes: bytes.length });
  }

  async get(key: string): Promise<Buffer | undefined> {
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    return this.call('GET', key, async () => {
      try {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: this.key(key) }));
        return out.Body === undefined ? Buffer.alloc(0) : Buffer.from(await out.Body.transformToByteArray());
      } catch (err) {
        if (isS3NotFound(err)) return undefined;
        throw err;
      }
    });
  }

  async stat(key: string): Promise<StoreObjectInfo | undefined> {
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    return this.call('HEAD', key, async () => {
      try {
        const out = await this.client.send(new HeadObjectCommand({ Bucket: this.where.bucket, Key: this.key(key) }));
        return { size: out.ContentLength ?? 0 };
      } catch (err) {
        if (isS3NotFound(err)) return undefined;
        throw err;
      }
    });
  }

  /** SDK errors become one kbuild error naming the object; the SDK already retried what it could. */
  private async call<T>(verb: string, key: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof KbuildError) throw err;
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      throw new KbuildError('E_S3', `${verb} ${this.location}/${key} failed: ${errorMessage(err)}${status === undefined ? '' : ` (HTTP ${status})`}`, {
        cause: err,
        retryable: status === undefined || status >= 500,
        suggestions: ['Check the S3 endpoint, bucket and credentials (--s3-endpoint, AWS_* variables)'],
      });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
  }
}
