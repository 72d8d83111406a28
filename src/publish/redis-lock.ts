import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { KbuildError } from '../errors.js';
import type { PublishLease, PublishLock } from './publish-lock.js';

/** Delete or extend only a lock we still own: the token tells us from a publisher that took over after expiry. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export interface RedisLockOptions {
  /** Lock lifetime without renewal: bounds how long a crashed publisher blocks the others. */
  readonly ttlMs?: number;
  /** How long to wait for the lock before giving up. */
  readonly waitMs?: number;
}

/**
 * SET key token NX PX ttl, renewed every ttl/3 while the publish runs, released
 * by a compare-and-delete script. One key per store location, so publishers of
 * different stores never wait on each other.
 */
export class RedisPublishLock implements PublishLock {
  readonly name: string;
  private readonly redis: Redis;
  private readonly ownsConnection: boolean;
  private closed = false;

  constructor(redis: Redis | string, storeLocation: string, private readonly options: RedisLockOptions = {}) {
    this.name = `kbuild:publish-lock:${storeLocation}`;
    this.ownsConnection = typeof redis === 'string';
    this.redis = typeof redis === 'string' ? new Redis(redis, { lazyConnect: true, maxRetriesPerRequest: 3 }) : redis;
  }

  async withLock<T>(fn: (lease: PublishLease) => Promise<T>): Promise<T> {
    const ttlMs = this.options.ttlMs ?? 30_000;
    const token = randomBytes(16).toString('hex');
    await this.acquire(token, ttlMs);
    let lost = false;
    const renew = setInterval(() => {
      this.redis.eval(RENEW, 1, this.name, token, String(ttlMs)).then(
        (ok) => { if (ok !== 1) lost = true; },
        () => undefined, // A Redis hiccup: the next renewal, or the ttl, decides.
      );
    }, Math.max(50, Math.floor(ttlMs / 3)));
    const lease: PublishLease = {
      assertHeld: () => {
        if (lost) throw new KbuildError('E_PUBLISH_LOCK_LOST', `lost ${this.name} while publishing (it expired); nothing was written`, { retryable: true });
      },
    };
    try {
      return await fn(lease);
    } finally {
      clearInterval(renew);
      await this.redis.eval(RELEASE, 1, this.name, token).catch(() => undefined);
    }
  }

  private async acquire(token: string, ttlMs: number): Promise<void> {
    const deadline = Date.now() + (this.options.waitMs ?? 10 * 60_000);
    for (let attempt = 0; ; attempt++) {
      const ok = await this.redis.set(this.name, token, 'PX', ttlMs, 'NX').catch((err: Error) => {
        throw new KbuildError('E_REDIS', `cannot take ${this.name}: ${err.message}`, { retryable: true, cause: err });
      });
      if (ok === 'OK') return;
      if (Date.now() > deadline) throw new KbuildError('E_PUBLISH_LOCK', `timed out waiting for ${this.name}`, { retryable: true });
      // Jittered, growing poll so many waiting publishers do not hammer Redis in step.
      await sleep(Math.min(100, 10 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random()));
    }
  }

  async close(): Promise<void> {
    if (this.closed || !this.ownsConnection) return;
    this.closed = true;
    this.redis.disconnect();
  }
}
