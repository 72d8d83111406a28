// Publishing and fetching against a real S3 server (Ceph RGW from scripts/rgw.sh):
// P concurrent publishers (own S3 client and Redis connection each) x K publishes
// into one signed index under the Redis lock, then an agent's cold and warm start
// (fetch over S3 and over HTTP). Prints figures; asserts nothing about time.
// Run: node --import tsx bench/publish-fetch.bench.ts   (BENCH_PUBLISHERS, BENCH_PUBLISHES, KBUILD_REDIS_URL)
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchArtifacts } from '@kbuild/loader/internal';
import { RedisPublishLock } from '../src/publish/redis-lock.js';
import { writeIndex } from '../src/runner/write-index.js';
import { generateKeyFiles, loadSigningKey } from '../src/sign/signing-key.js';
import { openStore } from '../src/store/open-store.js';
import { indexOf, storeNonCore } from '../test/helpers/index-fixtures.js';
import { startRgw } from '../test/helpers/rgw.js';

const PUBLISHERS = Number(process.env['BENCH_PUBLISHERS'] ?? 8);
const PUBLISHES = Number(process.env['BENCH_PUBLISHES'] ?? 25);
const REDIS = process.env['KBUILD_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

const work = await mkdtemp(join(tmpdir(), 'kbuild-bench-'));
const rgw = await startRgw();
try {
  const keys = await generateKeyFiles(join(work, 'keys'));
  const signingKey = await loadSigningKey(keys.privateKey);
  const bucket = await rgw.createBucket({ publicRead: true });
  const url = `s3://${bucket}/farm`;

  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: PUBLISHERS }, async (_, id) => {
      const store = await openStore(url, { env: rgw.env });
      const lock = new RedisPublishLock(REDIS, store.location);
      try {
        for (let i = 0; i < PUBLISHES; i++) {
          const artifact = await storeNonCore(store, `p${id}`, `6.1.0-${i}-amd64`, randomBytes(20_000));
          const t = performance.now();
          await writeIndex(store, indexOf([artifact]), { signingKey, lock });
          latencies.push(performance.now() - t);
        }
      } finally {
        await lock.close();
        await store.close();
      }
    }),
  );
  const total = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): string => (latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0).toFixed(0);
  console.log(`publish: ${PUBLISHERS} publishers x ${PUBLISHES} = ${latencies.length} signed index updates in ${total.toFixed(1)} s, ${(latencies.length / total).toFixed(1)}/s`);
  console.log(`publish: writeIndex latency p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${pct(100)} ms (waiting for the lock included)`);

  const publicKey = await readFile(keys.publicKey);
  const host = { distro: 'debian', release: '6.1.0-3-amd64', arch: 'x86_64', version: '#1', hasBtf: true } as const;
  const sources = [['s3', `${url}/index.json`], ['http', `${rgw.endpoint}/${bucket}/farm/index.json`]] as const;
  for (const [name, index] of sources) {
    const dest = join(work, `cache-${name}`);
    const time = async (): Promise<{ ms: number; downloaded: number }> => {
      const t = performance.now();
      const result = await fetchArtifacts({ index, dest, publicKey, host, probes: ['p0'], env: rgw.env });
      return { ms: performance.now() - t, downloaded: result.probes.filter((p) => p.object?.downloaded === true).length };
    };
    const cold = await time();
    const warm = await time();
    console.log(
      `fetch over ${name}: cold start ${cold.ms.toFixed(0)} ms (${cold.downloaded} downloaded), warm start ${warm.ms.toFixed(0)} ms (${warm.downloaded} downloaded), index of ${latencies.length} entries`,
    );
  }
} finally {
  await rgw.stop();
  await rm(work, { recursive: true, force: true });
}
