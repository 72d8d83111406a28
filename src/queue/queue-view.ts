import type { Queue } from 'bullmq';
import type { BuildJobResult, PublishJobResult } from './job-data.js';
import { parseFailureReason, type BuildFailure } from './failure.js';

/** A build as the farm reports it; `retrying` is a failed attempt waiting out its backoff. */
export type FarmJobState = 'done' | 'failed' | 'running' | 'retrying' | 'queued' | 'missing';

export interface JobDetail {
  readonly state: FarmJobState;
  readonly attempts: number;
  readonly result?: BuildJobResult;
  readonly failure?: BuildFailure;
  readonly finishedOn?: number;
}

export function isPending(state: FarmJobState): boolean {
  return state === 'running' || state === 'retrying' || state === 'queued';
}

/** States of many jobs in one go (the connection pipelines the calls). */
export async function jobStates(queue: Queue, ids: readonly string[]): Promise<Map<string, FarmJobState>> {
  const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
  return new Map(ids.map((id, i) => [id, farmState(states[i] ?? 'unknown')]));
}

function farmState(state: string): FarmJobState {
  switch (state) {
    case 'completed':
      return 'done';
    case 'failed':
      return 'failed';
    case 'active':
      return 'running';
    case 'delayed':
      return 'retrying';
    case 'unknown':
      return 'missing';
    default:
      return 'queued';
  }
}

export async function jobDetail(queue: Queue, id: string, state?: FarmJobState): Promise<JobDetail> {
  const current = state ?? farmState(await queue.getJobState(id));
  const job = await queue.getJob(id);
  if (job === undefined) return { state: 'missing', attempts: 0 };
  const attempts = job.attemptsMade;
  if (current === 'done') return { state: current, attempts, result: job.returnvalue as BuildJobResult, ...(job.finishedOn === undefined ? {} : { finishedOn: job.finishedOn }) };
  if (current === 'failed' || current === 'retrying') return { state: current, attempts, failure: parseFailureReason(job.failedReason) };
  return { state: current, attempts };
}

export type PublishState = 'pending' | 'published' | 'failed' | 'missing';

export async function publishState(queue: Queue, id: string): Promise<{ state: PublishState; result?: PublishJobResult; reason?: string }> {
  // State first, then the job: read the other way round, a job finishing in between looks completed without its result.
  const state = await queue.getJobState(id);
  if (state === 'unknown') return { state: 'missing' };
  if (state !== 'completed' && state !== 'failed') return { state: 'pending' };
  const job = await queue.getJob(id);
  if (job === undefined) return { state: 'missing' };
  if (state === 'completed') return { state: 'published', result: job.returnvalue as PublishJobResult };
  return { state: 'failed', reason: job.failedReason };
}
