import { errorMessage, KbuildError, CompileError } from '../errors.js';
import type { IndexArtifact } from '@kbuild/loader';
import type { ExternalBtfRecord } from '../btf/btf-record.js';
import { processJob, type ProcessorDeps } from '../job/processor.js';
import type { BuildJob } from '../job/types.js';
import type { ProgressReporter } from '../progress/types.js';

export interface JobResult {
  readonly job: BuildJob;
  /** `interrupted`: the run was stopped (SIGINT/SIGTERM) while this job ran. */
  readonly status: 'built' | 'skipped' | 'failed' | 'interrupted';
  readonly artifact?: IndexArtifact;
  /** External-BTF jobs: what was made for the kernel (or that it needs nothing). */
  readonly externalBtf?: ExternalBtfRecord;
  readonly error?: { readonly code: string; readonly message: string; readonly output?: string };
  readonly downloaded: boolean;
  readonly durationMs: number;
}

/**
 * The in-process driver: a bounded pool over the same processor a queue
 * worker runs. One job failing never stops the others.
 */
export async function runJobs(
  jobs: readonly BuildJob[],
  deps: ProcessorDeps,
  options: { concurrency: number; reporter: ProgressReporter; signal?: AbortSignal },
): Promise<JobResult[]> {
  const results: JobResult[] = new Array<JobResult>(jobs.length);
  const finished = jobs.map(() => deferred());
  const waitFor = coreJobWaits(jobs);
  let next = 0;
  options.reporter.start(jobs.length);
  const withStage: ProcessorDeps = { ...deps, onStage: (job, stage) => options.reporter.stage(job, stage) };
  const worker = async (): Promise<void> => {
    for (;;) {
      // Once interrupted, take no new job; running ones see the signal and stop.
      if (interrupted(options.signal)) return;
      const i = next++;
      const job = jobs[i];
      if (job === undefined) return;
      // An external-BTF job waits for its CO-RE job of this run, so it cuts the BTF for the stored object instead of compiling it again.
      const before = waitFor.get(i);
      if (before !== undefined) await finished[before]?.promise;
      const started = Date.now();
      let result: JobResult;
      try {
        const outcome = await processJob(job, withStage, options.signal);
        result = { job, ...outcome, durationMs: Date.now() - started };
      } catch (err) {
        const status = interrupted(options.signal) ? 'interrupted' : 'failed';
        result = { job, status, error: describeError(err), downloaded: false, durationMs: Date.now() - started };
      }
      results[i] = result;
      finished[i]?.resolve();
      options.reporter.done(result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, jobs.length)) }, worker));
  options.reporter.finish(results);
  return results.filter((r) => r !== undefined);
}

/** For each external-BTF job, the position of the CO-RE job it is cut for (same probe and arch), when that job comes earlier. */
function coreJobWaits(jobs: readonly BuildJob[]): Map<number, number> {
  const waits = new Map<number, number>();
  jobs.forEach((job, i) => {
    if (job.kind !== 'btf') return;
    const core = jobs.findIndex((j) => j.kind === 'core' && j.probe.digest === job.probe.digest && j.arch === job.kernel.arch);
    if (core !== -1 && core < i) waits.set(i, core);
  });
  return waits;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function interrupted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function describeError(err: unknown): NonNullable<JobResult['error']> {
  if (err instanceof CompileError) return { code: err.code, message: err.message, output: err.output };
  if (err instanceof KbuildError) return { code: err.code, message: err.message };
  return { code: 'E_INTERNAL', message: errorMessage(err) };
}
