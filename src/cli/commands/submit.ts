import { coreCheckRequest, type CoreCheckScope } from '../../core-check/check-scope.js';
import { publishCheckText } from '../../core-check/publish-check.js';
import { resolve } from 'node:path';
import type { LoadedKernelsFile } from '../../config/load-kernels-file.js';
import { runOnKernelsFile, type CommandOutcome } from '../command-outcome.js';
import { planBuild, publishBundles } from '../../job/plan.js';
import { cacheRoot } from '../../cache/cache-dir.js';
import { openStore } from '../../store/open-store.js';
import { openFarm, type FarmClient } from '../../queue/open-farm.js';
import { farmSettings } from '../../queue/settings.js';
import { countsLine, EXIT_SUBMISSION_LOST, jobLine, lostLine, submissionStatus, type JobStatus, type SubmissionStatus } from '../../queue/status.js';
import { watchRedis } from '../../queue/redis-watch.js';
import { submitPlan } from '../../queue/submit.js';
import { probeChecks } from '../../verify/stage/probe-check.js';
import { DEFAULT_VERIFY_TIMEOUT_S } from '../../verify/stage/run-stage.js';
import type { SubmissionRecord } from '../../queue/submission.js';
import { reportAfterPublish, writeReportOfStoredIndex } from '../../report/write-report.js';

export interface SubmitCommandOptions {
  readonly kernels: string;
  readonly store: string;
  readonly redis?: string;
  readonly queue?: string;
  readonly wait?: boolean;
  readonly json?: boolean;
  readonly jobTimeout: number;
  readonly attempts: number;
  /** Boot each kernel in QEMU once its builds are done (default on; `--no-verify`). */
  readonly verify?: boolean;
  readonly verifyTimeout?: number;
  /** The publish step runs the offline CO-RE check (on the build set's kernels, or the archive's) before writing the index. */
  readonly coreCheck?: CoreCheckScope;
}

const POLL_MS = 500;

/** Plans and enqueues a build set; with --wait, follows it to the published index. Exit 1 if any build failed. */
export async function submitCommand(opts: SubmitCommandOptions): Promise<number> {
  return runOnKernelsFile(opts.kernels, opts.json, (loaded) => submitKernelSet(loaded, opts));
}

/** Enqueues a loaded build set (`kbuild submit`'s, or the kernels `kbuild sync` found); with --wait, follows it. */
export async function submitKernelSet(loaded: LoadedKernelsFile, opts: Omit<SubmitCommandOptions, 'kernels'>): Promise<CommandOutcome> {
  const settings = farmSettings(opts);
  const plan = await planBuild(loaded);
  const store = storeUrl(opts.store);
  // A store URL the workers could not open would fail every job: refuse it here, before anything is queued.
  const storeHandle = await openStore(store);
  const farm = await openFarm(settings).catch(async (err: unknown) => {
    await storeHandle.close();
    throw err;
  });
  try {
    // Jobs name the sources bundle; it is in the store (content-addressed) before any job can run.
    await publishBundles(plan, storeHandle, cacheRoot());
    const outcome = await submitPlan(farm.queue, farm.redis, plan, {
      store,
      storeHandle,
      timeoutMs: opts.jobTimeout * 1000,
      attempts: opts.attempts,
      backoffMs: Number(process.env['KBUILD_RETRY_DELAY_MS'] ?? 5000),
      ...(opts.verify === false
        ? {}
        : {
            verify: {
              timeoutMs: (opts.verifyTimeout ?? DEFAULT_VERIFY_TIMEOUT_S) * 1000,
              kernels: loaded.config.kernels.map((k) => ({ distro: k.distro, release: k.release, arch: k.arch, ...(k.version === undefined ? {} : { version: k.version }) })),
              checks: Object.fromEntries(probeChecks(loaded.config.probes)),
            },
          }),
      ...(opts.coreCheck === undefined ? {} : { coreCheck: coreCheckRequest(opts.coreCheck, loaded.config) }),
    });
    const verifies = outcome.record.verifyJobs?.length ?? 0;
    const head = { submission: outcome.record.id, queue: settings.queue, store: outcome.record.store, total: plan.jobs.length + verifies, enqueued: outcome.enqueued };
    const what = verifies === 0 ? `${plan.jobs.length} builds` : `${plan.jobs.length} builds and ${verifies} kernel verifications`;
    for (const note of outcome.notes) process.stderr.write(`kbuild: note: ${note}\n`);
    process.stderr.write(`kbuild: submission ${head.submission}: ${what}, ${head.enqueued} enqueued (the rest already queued or done)\n`);
    const workers = await farm.queue.getWorkersCount().catch(() => undefined);
    if (workers === 0) process.stderr.write(`kbuild: note: no worker is connected to queue "${settings.queue}" yet; start one with \`kbuild worker --queue ${settings.queue}\`\n`);
    if (opts.wait !== true) return { exitCode: 0, json: head, text: `${head.submission}\n` };
    const stopWatching = watchRedis(farm.redis, settings.redisUrl, (line) => process.stderr.write(`kbuild: ${line}\n`));
    const status = await follow(farm, outcome.record).finally(stopWatching);
    if (status.publish.state === 'published') await reportAfterPublish(() => writeReportOfStoredIndex(storeHandle));
    const failed = status.counts.failed + (status.publish.state === 'failed' ? 1 : 0);
    const text = `${head.submission}: ${countsLine(status)}${status.publish.index === undefined ? '' : `\nindex: ${status.publish.index}`}\n`;
    const checkText = status.publish.coreCheck === undefined ? '' : publishCheckText(status.publish.coreCheck);
    const lost = lostLine(status);
    if (lost !== undefined) process.stderr.write(`kbuild: ${lost}\n`);
    return { exitCode: lost !== undefined ? EXIT_SUBMISSION_LOST : failed === 0 ? 0 : 1, json: { ...head, ...status }, text: text + checkText };
  } finally {
    await farm.close();
    await storeHandle.close();
  }
}

/** Folders become absolute: a worker started elsewhere must find the same store. */
function storeUrl(store: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(store) ? store : resolve(store);
}

/** Live progress on stderr: counts when they change, each finished build, failures with their reason as they happen. */
async function follow(farm: FarmClient, record: SubmissionRecord): Promise<SubmissionStatus> {
  const known = new Map<string, JobStatus>();
  const reported = new Set<string>();
  let lastCounts = '';
  for (;;) {
    const status = await submissionStatus(farm.queue, record, known);
    for (const job of status.jobs) {
      if ((job.state !== 'done' && job.state !== 'failed') || reported.has(`${job.id}:${job.state}`)) continue;
      reported.add(`${job.id}:${job.state}`);
      process.stderr.write(`kbuild: ${jobLine(job)}\n`);
    }
    const counts = countsLine(status);
    if (counts !== lastCounts) process.stderr.write(`kbuild: ${counts}\n`);
    lastCounts = counts;
    if (status.publish.state === 'published' || status.publish.state === 'failed' || status.publish.state === 'missing') return status;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
