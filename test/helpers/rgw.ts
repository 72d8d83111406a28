import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

/**
 * A real S3 server for a test file: Ceph's RADOS Gateway (dbstore backend)
 * started by scripts/rgw.sh on a free loopback port, stopped by `stop()`.
 * Tests make a bucket each and delete it afterwards.
 */
export const RGW_ACCESS_KEY = 'KBUILDTESTACCESSKEY0';
export const RGW_SECRET_KEY = 'kbuild-test-secret-key-0000000000000000';

export interface Rgw {
  readonly endpoint: string;
  /** AWS_* variables for a child process (a CLI run) to reach this gateway. */
  readonly env: Record<string, string>;
  readonly client: S3Client;
  /** A fresh bucket; `publicRead` lets anonymous HTTP GETs read its objects. */
  createBucket(options?: { publicRead?: boolean }): Promise<string>;
  deleteBucket(bucket: string): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** `host`: the address it listens on (default 127.0.0.1), e.g. a bridge address that network namespaces reach. */
export async function startRgw(options: { host?: string } = {}): Promise<Rgw> {
  const host = options.host ?? '127.0.0.1';
  const script = join(REPO_ROOT, 'scripts', 'rgw.sh');
  const name = `test-${process.pid}-${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const env = { RGW_ACCESS_KEY, RGW_SECRET_KEY };
  await execa('bash', [script, 'start', name, String(port), host], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const endpoint = `http://${host}:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: RGW_ACCESS_KEY, secretAccessKey: RGW_SECRET_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const buckets = new Set<string>();
  const deleteBucket = async (bucket: string): Promise<void> => {
    for (;;) {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      const keys = (listed.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
      if (keys.length === 0) break;
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    buckets.delete(bucket);
  };
  return {
    endpoint,
    env: { AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: RGW_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: RGW_SECRET_KEY },
    client,
    async createBucket(options = {}) {
      const bucket = `kbuild-${randomBytes(6).toString('hex')}`;
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      buckets.add(bucket);
      if (options.publicRead === true) {
        const policy = {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/*`] }],
        };
        await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
      }
      return bucket;
    },
    deleteBucket,
    async stop() {
      for (const bucket of [...buckets]) await deleteBucket(bucket).catch(() => undefined);
      client.destroy();
      await execa('bash', [script, 'stop', name], { reject: false });
    },
  };
}
