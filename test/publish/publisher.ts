/**
 * One concurrent publisher (run as its own process by concurrent-publish.test.ts):
 * stores COUNT artifacts of probe `p<ID>` and publishes after each one, so the
 * publishers' read-merge-write cycles interleave as much as they can.
 * argv: STORE_URL ID COUNT SIGNING_KEY [REDIS_URL]
 */
import { randomBytes } from 'node:crypto';
import { RedisPublishLock } from '../../src/publish/redis-lock.js';
import { writeIndex } from '../../src/runner/write-index.js';
import { loadSigningKey } from '../../src/sign/signing-key.js';
import { openStore } from '../../src/store/open-store.js';
import { indexOf, storeNonCore } from '../helpers/index-fixtures.js';

const [storeUrl = '', id = '', count = '', keyPath = '', redisUrl] = process.argv.slice(2);
const store = await openStore(storeUrl);
const signingKey = await loadSigningKey(keyPath);
const lock = redisUrl === undefined ? undefined : new RedisPublishLock(redisUrl, store.location, { ttlMs: 2000 });
try {
  for (let i = 0; i < Number(count); i++) {
    const artifact = await storeNonCore(store, `p${id}`, `6.1.0-${i}-amd64`, randomBytes(64 + i));
    await writeIndex(store, indexOf([artifact]), { signingKey, ...(lock === undefined ? {} : { lock }) });
  }
} finally {
  await lock?.close();
  await store.close();
}
