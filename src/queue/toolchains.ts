import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { farmKey } from './settings.js';

/**
 * The compilers a queue's workers build with, one hash field per toolchain id.
 * Queue job ids follow the whole set (sorted), so they do not change with the
 * worker that started last, and a fleet that gains a new compiler gets new ids.
 * Hosts are kept beside it, so `doctor --for farm` can tell a folder store
 * on this machine's disk from one that workers elsewhere could see.
 */
const toolchainsKey = (queue: string): string => farmKey(queue, 'toolchains');
const hostsKey = (queue: string): string => farmKey(queue, 'hosts');

/** Idempotent: run at start, on every job and when Redis comes back (it may have been restarted empty). */
export async function registerWorker(redis: Redis, queue: string, toolchain: string, worker: string): Promise<void> {
  await redis
    .multi()
    .hsetnx(toolchainsKey(queue), toolchain, worker)
    .hset(hostsKey(queue), hostname(), new Date().toISOString())
    .exec();
}

/** What submitters put into queue job ids: every registered toolchain, or `unregistered` before any worker ran. */
export async function registeredToolchains(redis: Redis, queue: string): Promise<string> {
  const ids = (await redis.hkeys(toolchainsKey(queue))).sort();
  return ids.length === 0 ? 'unregistered' : ids.join('\n');
}

/** Hosts whose workers registered with the queue, with when they last did. */
export async function registeredHosts(redis: Redis, queue: string): Promise<Record<string, string>> {
  return redis.hgetall(hostsKey(queue));
}
