import { Redis } from 'ioredis';
import { ConfigError, KbuildError } from '../errors.js';

/** Where the farm lives: one Redis, one queue name. Flags win over the environment. */
export interface FarmSettings {
  readonly redisUrl: string;
  readonly queue: string;
}

export interface FarmFlags {
  readonly redis?: string | undefined;
  readonly queue?: string | undefined;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_QUEUE = 'kbuild';
/** BullMQ's key prefix; a queue's keys are `kbuild:<queue>:*`. */
export const BULL_PREFIX = 'kbuild';

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function farmSettings(flags: FarmFlags, env: NodeJS.ProcessEnv = process.env): FarmSettings {
  const redisUrl = flags.redis ?? env['KBUILD_REDIS_URL'] ?? DEFAULT_REDIS_URL;
  const queue = flags.queue ?? env['KBUILD_QUEUE'] ?? DEFAULT_QUEUE;
  if (!/^rediss?:\/\//.test(redisUrl)) throw new ConfigError(`Redis URL must start with redis:// or rediss://, got "${redisUrl}"`);
  // The name becomes part of Redis keys: keep it to a plain word.
  if (!QUEUE_NAME.test(queue)) throw new ConfigError(`queue name "${queue}" must be 1-64 letters, digits, "_" or "-"`);
  return { redisUrl, queue };
}

/** BullMQ needs `maxRetriesPerRequest: null` on blocking connections; a dead Redis is reported, not waited on forever. */
export async function openRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  redis.on('error', () => {}); // reported by the ping below or by the command that fails
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('timed out')), 5000).unref(),
  );
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), timeout]);
  } catch (err) {
    redis.disconnect();
    throw new KbuildError('E_REDIS', `cannot reach Redis at ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`, {
      suggestions: ['Pass --redis redis://HOST:PORT or set KBUILD_REDIS_URL'],
    });
  }
  return redis;
}

/** Never print a password that came in the URL. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

/** Farm-owned keys (submissions, the workers' toolchain), beside BullMQ's own keys. */
export function farmKey(queue: string, ...parts: string[]): string {
  return ['kbuild-farm', queue, ...parts].join(':');
}
