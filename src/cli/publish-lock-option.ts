import { KbuildError } from '../errors.js';
import { noPublishLock, type PublishLock } from '../publish/publish-lock.js';
import { RedisPublishLock } from '../publish/redis-lock.js';

/**
 * The lock `build` and `verify` publish under: Redis when given; for an S3
 * store without one, a refusal before any work is done (unlocked concurrent
 * publishers lose each other's index entries) unless the user says
 * `--unlocked`; undefined leaves a folder store to its lock file.
 */
export function publishLockFor(storeLocation: string, redis: string | undefined, unlocked: boolean | undefined): PublishLock | undefined {
  refuseUnlockedS3(storeLocation, redis, unlocked);
  if (redis !== undefined) return new RedisPublishLock(redis, storeLocation);
  return storeLocation.startsWith('s3://') ? noPublishLock : undefined;
}

/** The refusal alone, for checking a store URL before anything is opened or built. */
export function refuseUnlockedS3(storeUrl: string, redis: string | undefined, unlocked: boolean | undefined): void {
  if (redis !== undefined || unlocked === true || !storeUrl.startsWith('s3://')) return;
  throw new KbuildError('E_PUBLISH_UNLOCKED', `nothing would serialize index updates of ${storeUrl} with other publishers (S3 has no lock of its own): refusing to publish`, {
    exitCode: 2,
    suggestions: ['Pass --redis URL (or set KBUILD_REDIS_URL) that every publisher of this store uses', 'or --unlocked if this is the only publisher of the store'],
  });
}
