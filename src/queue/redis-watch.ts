import type { Redis } from 'ioredis';
import { redactUrl } from './settings.js';

/**
 * One line per change of the connection's state (lost, back), never one per
 * failed reconnect: ioredis retries every few hundred milliseconds while
 * Redis is down, and commands wait in its offline queue until it returns.
 */
export function watchRedis(redis: Redis, url: string, write: (line: string) => void): () => void {
  let down = false;
  const onError = (err: Error & { code?: string }) => {
    if (down) return;
    down = true;
    write(`lost Redis at ${redactUrl(url)} (${err.code ?? err.message}); waiting for it to come back`);
  };
  const onClose = () => onError(Object.assign(new Error('connection closed'), { code: 'connection closed' }));
  const onReady = () => {
    if (!down) return;
    down = false;
    write(`Redis at ${redactUrl(url)} is back`);
  };
  redis.on('error', onError);
  redis.on('close', onClose);
  redis.on('ready', onReady);
  return () => {
    redis.off('error', onError);
    redis.off('close', onClose);
    redis.off('ready', onReady);
  };
}

const CONNECTION_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/** Errors BullMQ re-emits while Redis is unreachable: watchRedis reports those once. */
export function isConnectionError(err: Error & { code?: string }): boolean {
  return (err.code !== undefined && CONNECTION_ERRNO.has(err.code)) || /Connection is closed|connect ETIMEDOUT/.test(err.message);
}
