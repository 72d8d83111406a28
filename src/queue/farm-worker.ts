import { hostname } from 'node:os';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { openExecutors, type ExecutorSet } from '../executor/open-executor.js';
import { jobLabel } from '../job/types.js';
import type { Logger } from '../log.js';
import { processorStep, type BuildStep } from './build-step.js';
import { describeFailure, failureReason, JobTimeoutError, toQueueError } from './failure.js';
import { BUILD, PUBLISH, type BuildJobData, type BuildJobResult, type PublishJobData } from './job-data.js';
import { parseBuildJobData } from './build-job-data.js';
import { jobKindOf } from './job-name.js';
import { publishSubmission } from './publish.js';
import { runVerifyJob, VERIFY, type VerifyJobData } from './verify-job.js';
import { BULL_PREFIX, openRedis, type FarmSettings } from './settings.js';
import { assertSeesFolders } from './shared-folder.js';
import { registerWorker } from './toolchains.js';
import { StoreCache } from './store-cache.js';
import { isConnectionError, watchRedis } from './redis-watch.js';
import { anySignal } from '../util/any-signal.js';
import { compileClock, observeCache, observeJob, observePhase, observeVerify } from '../metrics/events.js';
import type { SigningKey } from '../sign/signing-key.js';

export interface FarmWorkerOptions {
  readonly settings: FarmSettings;
  readonly concurrency: number;
  /** A job whose worker stops renewing its lock for this long is taken back (stalled-job recovery). */
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly publishPollMs: number;
  readonly log: Logger;
  /** One line per job event (started, compiling, built, failed); quiet when absent. */
  readonly out?: (line: string) => void;
  /** Where builds run (default: local, or the builder image a job asks for). */
  readonly executors?: ExecutorSet;
  /** Replaces the real build (the farm benchmark's trivial step); everything else stays the same. */
  readonly build?: BuildStep;
  readonly name?: string;
  /** Signs the index the publish step writes. */
  readonly signingKey?: SigningKey;
}

export interface FarmWorker {
  readonly name: string;
  readonly queue: string;
  /** The queue's jobs by state, as BullMQ counts them (for the metrics endpoint). */
  jobCounts(): Promise<Record<string, number>>;
  /** Takes no new job, lets running ones finish, then disconnects. Idempotent. */
  close(): Promise<void>;
}

/** Timers above 2^31-1 ms fire at once; a time limit that large means "none". */
const MAX_TIMER_MS = 2 ** 31 - 1;

export async function startFarmWorker(options: FarmWorkerOptions): Promise<FarmWorker> {
  const { settings, log } = options;
  const out = options.out ?? ((): void => {});
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const redis = await openRedis(settings.redisUrl);
  const queue = new Queue(settings.queue, { connection: redis, prefix: BULL_PREFIX });
  // A Redis outage is one line when lost and one when back, not a stack per reconnect attempt.
  queue.on('error', () => {});
  const stopWatching = watchRedis(redis, settings.redisUrl, (line) => out(`${name}: ${line}`));
  const executors = options.executors ?? openExecutors({ log });
  // Submitters read the registered set to compute queue job ids that change when the fleet's compilers do.
  const toolchain = await executors.local.toolchainId();
  await registerWorker(redis, settings.queue, toolchain, name);
  // Redis may have been restarted empty or flushed since: registered again on every job and reconnect.
  const reregister = (): Promise<unknown> => registerWorker(redis, settings.queue, toolchain, name).catch(() => undefined);
  const onReady = (): void => void reregister();
  redis.on('ready', onReady);
  const stores = new StoreCache();
  const build = options.build ?? processorStep({ executors, log, openStore: stores.open });

  const runBuild = async (job: Job<BuildJobData>, signal: AbortSignal | undefined): Promise<BuildJobResult> => {
    let data: BuildJobData;
    try {
      data = parseBuildJobData(job.data);
    } catch (err) {
      throw toQueueError(err);
    }
    const label = jobLabel(data.job);
    const started = Date.now();
    out(`${name}: started ${label} (attempt ${job.attemptsMade + 1})`);
    const limit = new AbortController();
    const timer = setTimeout(() => limit.abort(), Math.min(data.timeoutMs, MAX_TIMER_MS));
    const linked = signal === undefined ? undefined : anySignal([signal, limit.signal]);
    const abort = linked?.signal ?? limit.signal;
    const compiling = compileClock();
    try {
      await assertSeesFolders(data.shared, name);
      const outcome = await build(data, abort, (stage) => {
        compiling.stage(stage);
        if (stage === 'compile') out(`${name}: compiling ${label}`);
      });
      compiling.end();
      observeCache('store', outcome.status === 'skipped');
      observeJob(BUILD, outcome.status);
      const durationMs = Date.now() - started;
      out(`${name}: ${outcome.status === 'built' ? 'built' : 'up to date'} ${label} (${(durationMs / 1000).toFixed(1)}s)`);
      return { ...outcome, worker: name, durationMs };
    } catch (err) {
      const failure = limit.signal.aborted ? new UnrecoverableError(failureReason(describeFailure(new JobTimeoutError(data.timeoutMs)))) : toQueueError(err);
      const retry = !(failure instanceof UnrecoverableError) && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
      compiling.end();
      observeJob(BUILD, retry ? 'retrying' : 'failed');
      out(`${name}: ${retry ? 'retrying' : 'FAILED'} ${label}: ${failure.message.split('\n')[0] ?? ''}`);
      log.debug({ job: label, err }, 'build failed');
      throw failure;
    } finally {
      clearTimeout(timer);
      linked?.dispose();
    }
  };

  const worker = new Worker(
    settings.queue,
    async (job: Job, token?: string, signal?: AbortSignal) => {
      await reregister();
      const kind = jobKindOf(job.name);
      if (kind === BUILD) return runBuild(job as Job<BuildJobData>, signal);
      if (kind === VERIFY) {
        try {
          const result = await runVerifyJob(job as Job<VerifyJobData>, token, { queue, openStore: stores.open, pollMs: options.publishPollMs, log, worker: name, out });
          observePhase('verify', result.seconds);
          observeVerify(result.status, result.cases.map((c) => c.entry.result));
          observeJob(VERIFY, 'completed');
          return result;
        } catch (err) {
          if (err instanceof DelayedError) throw err;
          observeJob(VERIFY, 'failed');
          out(`${name}: FAILED verify ${job.id ?? ''}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
          throw toQueueError(err);
        }
      }
      if (kind === PUBLISH) {
        return publishJob(job as Job<PublishJobData>, token, {
          queue,
          redis,
          queueName: settings.queue,
          openStore: stores.open,
          pollMs: options.publishPollMs,
          worker: name,
          ...(options.signingKey === undefined ? {} : { signingKey: options.signingKey }),
        });
      }
      throw new UnrecoverableError(`E_INTERNAL: unknown job kind "${job.name}"`);
    },
    {
      connection: redis,
      prefix: BULL_PREFIX,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // Twice: a worker killed once is bad luck; a job that kills workers every time fails.
      maxStalledCount: 2,
      name,
    },
  );
  worker.on('error', (err) => {
    if (!isConnectionError(err)) log.error({ err }, 'worker error');
  });
  worker.on('stalled', (jobId) => out(`${name}: took back stalled job ${jobId}`));

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    // Every step runs even when one fails; the first failure is reported.
    closing ??= (async () => {
      const steps = await Promise.allSettled([worker.close()]);
      stopWatching();
      redis.off('ready', onReady);
      const rest = await Promise.allSettled([queue.close(), stores.close(), executors.close()]);
      await redis.quit().catch(() => redis.disconnect());
      const failed = [...steps, ...rest].find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    })();
    return closing;
  };
  const jobCounts = (): Promise<Record<string, number>> => queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed');
  return { name, queue: settings.queue, jobCounts, close };
}

/** The publish step, timed when it ran (not when it only waited for its builds: DelayedError). */
async function publishJob(...args: Parameters<typeof publishSubmission>): Promise<Awaited<ReturnType<typeof publishSubmission>>> {
  const started = process.hrtime.bigint();
  try {
    const result = await publishSubmission(...args);
    observePhase('publish', Number(process.hrtime.bigint() - started) / 1e9);
    observeJob(PUBLISH, 'completed');
    return result;
  } catch (err) {
    if (!(err instanceof DelayedError)) observeJob(PUBLISH, 'failed');
    throw err;
  }
}
