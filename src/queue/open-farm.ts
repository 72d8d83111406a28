import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { BULL_PREFIX, openRedis, type FarmSettings } from './settings.js';

/** The client side of the farm (submit, status): a queue handle and the connection under it. */
export interface FarmClient {
  readonly queue: Queue;
  readonly redis: Redis;
  close(): Promise<void>;
}

export async function openFarm(settings: FarmSettings): Promise<FarmClient> {
  const redis = await openRedis(settings.redisUrl);
  const queue = new Queue(settings.queue, { connection: redis, prefix: BULL_PREFIX });
  // Without a listener BullMQ prints every reconnect failure's stack; outages are reported by watchRedis, failed commands by their callers.
  queue.on('error', () => {});
  return {
    queue,
    redis,
    close: async () => {
      await queue.close().catch(() => {});
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
