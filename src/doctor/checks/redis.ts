import { Redis } from 'ioredis';
import { errorMessage } from '../../errors.js';
import { DEFAULT_REDIS_URL, redactUrl } from '../../queue/settings.js';
import { compareVersions } from '../tool-version.js';
import type { DoctorCheck } from '../types.js';

/** BullMQ's documented minimum; 6.2 is what it is tested with. */
const MINIMUM = '5.0.0';
const RECOMMENDED = '6.2.0';

export const redis: DoctorCheck = {
  id: 'redis',
  title: 'Redis (farm queue)',
  required: (c) => c.purposes.has('farm'),
  run: async (c) => {
    const url = c.redisUrl ?? (c.purposes.has('farm') ? DEFAULT_REDIS_URL : undefined);
    if (url === undefined) return { status: 'skipped', detail: 'no --redis or KBUILD_REDIS_URL given (only submit, worker, status and dashboard need Redis)' };
    const where = redactUrl(url);
    const fix = `start Redis (apt-get install redis-server) or pass the farm's --redis URL / KBUILD_REDIS_URL`;
    // One attempt, no reconnects, and the socket's own error kept: "ECONNREFUSED" says more than "Connection is closed".
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5_000 });
    let socketError: string | undefined;
    client.on('error', (err: Error) => (socketError ??= err.message));
    try {
      await client.connect();
      await client.ping();
    } catch (err) {
      client.disconnect();
      const why = socketError ?? errorMessage(err);
      const what = /Protocol error/.test(why) ? `something answered at ${where}, but not Redis (${why})` : `cannot reach Redis at ${where}: ${why}`;
      return { status: 'problem', detail: what, fix };
    }
    try {
      const info = await client.info('server');
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '';
      if (version !== '' && compareVersions(version, MINIMUM) < 0) {
        return { status: 'problem', version, detail: `Redis ${version} at ${where} is older than ${MINIMUM} (BullMQ's minimum)`, fix: 'upgrade Redis (Debian 12: apt-get install redis-server)' };
      }
      if (version !== '' && compareVersions(version, RECOMMENDED) < 0) {
        return { status: 'warn', version, detail: `Redis ${version} at ${where} works but BullMQ recommends ${RECOMMENDED}+`, fix: 'upgrade Redis' };
      }
      return { status: 'ok', version, detail: `Redis ${version || '?'} at ${where}` };
    } catch (err) {
      return { status: 'problem', detail: `Redis at ${where} answered PING but not INFO: ${errorMessage(err)}`, fix };
    } finally {
      await client.quit().catch(() => client.disconnect());
    }
  },
};
