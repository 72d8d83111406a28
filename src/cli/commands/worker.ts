import { hostname } from 'node:os';
import { createLogger } from '../../log.js';
import { sweepLeftoverScratch } from '../sweep-scratch.js';
import { startFarmWorker, type FarmWorker } from '../../queue/farm-worker.js';
import { farmSettings } from '../../queue/settings.js';
import { loadSigningKey } from '../../sign/signing-key.js';
import { startMetricsEndpoint } from '../../metrics/prometheus.js';

export interface WorkerCommandOptions {
  readonly redis?: string;
  readonly queue?: string;
  readonly concurrency: number;
  readonly lockDuration: number;
  readonly stalledInterval: number;
  /** ed25519 private key that signs the indexes this worker publishes. */
  readonly signingKey?: string;
  /** `[host:]port` of the Prometheus endpoint (loopback unless a host is given); none when absent. */
  readonly metrics?: string;
}

/**
 * Processes jobs until SIGTERM/SIGINT: then it takes no new job, lets the
 * running ones finish, and exits 0. A worker killed outright loses nothing:
 * its jobs' locks expire and another worker takes them back.
 */
export async function workerCommand(opts: WorkerCommandOptions): Promise<number> {
  const settings = farmSettings(opts);
  const name = `${hostname()}:${process.pid}`;
  // Listening first: a bad address fails before any job is taken, and the first job is counted.
  let farmWorker: FarmWorker | undefined;
  const metrics =
    opts.metrics === undefined
      ? undefined
      : await startMetricsEndpoint(opts.metrics, { queue: settings.queue, worker: name, jobCounts: () => farmWorker?.jobCounts() ?? Promise.resolve({}) });
  await sweepLeftoverScratch();
  const signingKey = opts.signingKey === undefined ? undefined : await loadSigningKey(opts.signingKey);
  // Listen before the worker starts: it may take a job (and be signalled) before startFarmWorker returns.
  let stopSignal = '';
  const stopped = new Promise<void>((resolveStop) => {
    const stop = (signal: string): void => {
      stopSignal = signal;
      resolveStop();
    };
    // `on`, not `once`: execa's signal-exit re-raises a signal that no other listener handles.
    process.on('SIGTERM', () => stop('SIGTERM')).on('SIGINT', () => stop('SIGINT'));
  });
  const worker = await startFarmWorker({
    name,
    ...(signingKey === undefined ? {} : { signingKey }),
    settings,
    concurrency: opts.concurrency,
    lockDurationMs: opts.lockDuration,
    stalledIntervalMs: opts.stalledInterval,
    publishPollMs: 1000,
    log: createLogger(),
    out: (line) => process.stderr.write(`${line}\n`),
  }).catch(async (err: unknown) => {
    await metrics?.close();
    throw err;
  });
  farmWorker = worker;
  if (metrics !== undefined) process.stderr.write(`kbuild worker ${worker.name}: metrics on ${metrics.url}\n`);
  process.stderr.write(`kbuild worker ${worker.name}: queue ${settings.queue}, concurrency ${opts.concurrency}\n`);
  await stopped;
  process.stderr.write(`kbuild worker ${worker.name}: ${stopSignal}, finishing running builds\n`);
  await worker.close();
  await metrics?.close();
  process.stderr.write(`kbuild worker ${worker.name}: stopped\n`);
  return 0;
}
