// One benchmark worker process: the farm's worker with the trivial build step injected.
// Usage: tsx bench/farm-worker.ts QUEUE CONCURRENCY
import { createLogger } from '../src/log.js';
import { startFarmWorker } from '../src/queue/farm-worker.js';
import { farmSettings } from '../src/queue/settings.js';
import { StoreCache } from '../src/queue/store-cache.js';
import { trivialStep } from './trivial-step.js';

const [queue, concurrency = '1'] = process.argv.slice(2);
const stores = new StoreCache();
const worker = await startFarmWorker({
  settings: farmSettings({ queue }),
  concurrency: Number(concurrency),
  lockDurationMs: 30_000,
  stalledIntervalMs: 15_000,
  publishPollMs: 100,
  log: createLogger(),
  build: trivialStep(stores.open),
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void worker
    .close()
    .then(() => stores.close())
    .then(() => process.exit(0));
});
