import type { PublishCheckSummary } from '../core-check/publish-check.js';
import type { Queue } from 'bullmq';
import { BTF_NOT_NEEDED, btfNotNeeded } from '../btf/btf-record.js';
import type { BuildFailure } from './failure.js';
import { jobDetail, jobStates, publishState, type FarmJobState, type PublishState } from './queue-view.js';
import { parseFailureReason } from './failure.js';
import { outcomeSummary, outcomeVerdict } from '../verify/stage/progress.js';
import type { VerifyJobResult } from './verify-job.js';
import type { SubmissionRecord } from './submission.js';

export interface JobStatus {
  readonly id: string;
  readonly label: string;
  readonly group: string;
  readonly state: FarmJobState;
  /** For finished builds: built now, or already in the store. */
  readonly outcome?: 'built' | 'skipped';
  /** Finished before this submission was made: an identical earlier job, reused. */
  readonly reused?: boolean;
  readonly worker?: string;
  readonly attempts: number;
  readonly path?: string;
  readonly sha256?: string;
  readonly error?: BuildFailure;
  /** Verify jobs: what the boot showed ("3 ok, 0 failed, ..."); external-BTF jobs of a kernel with BTF: "not needed". */
  readonly summary?: string;
  /** Running, but no worker is connected: its lock will expire and the next worker takes it back. */
  readonly orphaned?: boolean;
}

export interface SubmissionStatus {
  readonly submission: string;
  readonly store: string;
  readonly createdAt: string;
  readonly counts: Readonly<Record<FarmJobState, number>>;
  /** Workers connected to the queue now (BullMQ's worker registry: their Redis connections). */
  readonly liveWorkers?: number;
  readonly publish: { readonly state: PublishState; readonly index?: string; readonly reason?: string; readonly coreCheck?: PublishCheckSummary };
  readonly jobs: readonly JobStatus[];
}

/**
 * Where a submission stands. `known` carries details already read for
 * finished jobs (they do not change), so a watcher polling every half second
 * reads only job states and what newly finished.
 */
export async function submissionStatus(queue: Queue, record: SubmissionRecord, known: Map<string, JobStatus> = new Map()): Promise<SubmissionStatus> {
  const states = await jobStates(queue, record.jobs.map((j) => j.id));
  const jobs = await Promise.all(
    record.jobs.map(async (submitted): Promise<JobStatus> => {
      const state = states.get(submitted.id) ?? 'missing';
      const cached = known.get(submitted.id);
      if (cached?.state === state && (state === 'done' || state === 'failed')) return cached;
      const base = { id: submitted.id, label: submitted.label, group: submitted.group };
      if (state !== 'done' && state !== 'failed' && state !== 'retrying') return { ...base, state, attempts: 0 };
      const detail = await jobDetail(queue, submitted.id, state);
      const result = detail.result;
      const status: JobStatus = {
        ...base,
        state: detail.state,
        attempts: detail.attempts,
        ...(result === undefined
          ? {}
          : {
              outcome: result.status,
              reused: (detail.finishedOn ?? Infinity) < Date.parse(record.createdAt),
              worker: result.worker,
              ...(result.artifact === undefined ? {} : { path: result.artifact.path, sha256: result.artifact.sha256 }),
              ...(btfNotNeeded(result.externalBtf) ? { summary: BTF_NOT_NEEDED } : {}),
            }),
        ...(detail.failure === undefined ? {} : { error: detail.failure }),
      };
      known.set(submitted.id, status);
      return status;
    }),
  );
  jobs.push(...(await verifyStatuses(queue, record, known)));
  // A SIGKILLed worker's job stays "active" until its lock expires: with nobody connected, say so.
  const liveWorkers = jobs.some((j) => j.state === 'running') ? (await queue.getWorkers()).length : undefined;
  if (liveWorkers === 0) jobs.forEach((j, i) => { if (j.state === 'running') jobs[i] = { ...j, orphaned: true }; });
  const published = await publishState(queue, record.publishJobId);
  // A build the publish step could not put into the index failed, whatever its job says.
  for (const u of published.result?.unpublished ?? []) {
    const i = jobs.findIndex((j) => j.id === u.id);
    const job = jobs[i];
    if (job !== undefined) jobs[i] = { ...job, state: 'failed', error: { code: u.code, message: `not published: ${u.message}` } };
  }
  const counts: Record<FarmJobState, number> = { done: 0, failed: 0, running: 0, retrying: 0, queued: 0, missing: 0 };
  for (const job of jobs) counts[job.state]++;
  return {
    submission: record.id,
    store: record.store,
    createdAt: record.createdAt,
    counts,
    ...(liveWorkers === undefined ? {} : { liveWorkers }),
    publish: {
      state: published.state,
      ...(published.result === undefined ? {} : { index: published.result.index }),
      ...(published.result?.coreCheck === undefined ? {} : { coreCheck: published.result.coreCheck }),
      ...(published.reason === undefined ? {} : { reason: published.reason }),
    },
    jobs,
  };
}

/**
 * Verify jobs as status lists them, beside their kernel's builds: a verify job
 * that completed with a failed case counts as failed, like a failed build.
 */
async function verifyStatuses(queue: Queue, record: SubmissionRecord, known: Map<string, JobStatus>): Promise<JobStatus[]> {
  const submitted = record.verifyJobs ?? [];
  const states = await jobStates(queue, submitted.map((v) => v.id));
  return Promise.all(
    submitted.map(async (v): Promise<JobStatus> => {
      const state = states.get(v.id) ?? 'missing';
      const cached = known.get(v.id);
      if (cached !== undefined && (state === 'done' || state === 'failed') && (cached.state === state || (state === 'done' && cached.error?.code === 'E_VERIFY_FAILED'))) return cached;
      const base = { id: v.id, label: v.label, group: v.group };
      if (state !== 'done' && state !== 'failed' && state !== 'retrying') return { ...base, state, attempts: 0 };
      const job = await queue.getJob(v.id);
      const attempts = job?.attemptsMade ?? 0;
      if (state !== 'done') {
        // Delayed without a failure: waiting for its kernel's builds, not retrying.
        if (state === 'retrying' && (job?.failedReason ?? '') === '') return { ...base, state: 'queued', attempts };
        const status: JobStatus = { ...base, state, attempts, error: parseFailureReason(job?.failedReason) };
        if (state === 'failed') known.set(v.id, status);
        return status;
      }
      const result = job?.returnvalue as VerifyJobResult | undefined;
      const cases = result?.cases ?? [];
      const failed = cases.filter((c) => c.entry.result === 'failed');
      const line = result === undefined ? 'no result' : `${outcomeVerdict(result)} ${outcomeSummary(result)}`;
      const status: JobStatus =
        failed.length === 0
          ? { ...base, state: 'done', attempts, summary: line, ...(result === undefined ? {} : { worker: result.worker }) }
          : {
              ...base,
              state: 'failed',
              attempts,
              summary: line,
              ...(result === undefined ? {} : { worker: result.worker }),
              error: {
                code: 'E_VERIFY_FAILED',
                message: failed.map((c) => `${c.artifactPath} (${c.mode}): ${c.entry.detail ?? 'failed'}`).join('; '),
                ...(failed[0]?.entry.verifierLog === undefined ? {} : { output: failed[0].entry.verifierLog.trimEnd().split('\n').slice(-20).join('\n') }),
              },
            };
      known.set(v.id, status);
      return status;
    }),
  );
}

/** Exit code of `submit --wait` and `status` when the farm lost (part of) a submission: nothing says its builds were published. */
export const EXIT_SUBMISSION_LOST = 5;

/** One line when jobs or the publish step of a submission are gone from Redis (restarted without persistence, or flushed). */
export function lostLine(status: SubmissionStatus): string | undefined {
  if (status.counts.missing === 0 && status.publish.state !== 'missing') return undefined;
  const jobs = status.counts.missing === 0 ? '' : `${status.counts.missing} of ${status.jobs.length} jobs`;
  const publish = status.publish.state === 'missing' ? 'its publish step' : '';
  return `submission ${status.submission} is gone from Redis (${[jobs, publish].filter((s) => s !== '').join(' and ')}: Redis restarted without persistence, or was flushed); nothing says its builds were published — resubmit`;
}

export function countsLine(status: SubmissionStatus): string {
  const c = status.counts;
  const running = status.liveWorkers === 0 && c.running > 0 ? `${c.running} running (no live worker: will be retried when one starts)` : `${c.running} running`;
  const parts = [`${c.done} done`, `${c.failed} failed`, running, `${c.queued} queued`];
  if (c.retrying > 0) parts.push(`${c.retrying} retrying`);
  if (c.missing > 0) parts.push(`${c.missing} missing`);
  return `${parts.join(', ')} of ${status.jobs.length}; index ${status.publish.state}`;
}

/** Human status: one block per kernel (or CO-RE arch), each failure with its reason. */
export function renderStatus(status: SubmissionStatus): string {
  const lines = [`submission ${status.submission} (${status.createdAt}) → ${status.store}`, countsLine(status)];
  if (status.publish.index !== undefined) lines.push(`index: ${status.publish.index}`);
  if (status.publish.reason !== undefined) lines.push(`publish failed: ${status.publish.reason}`);
  const groups = new Map<string, JobStatus[]>();
  for (const job of status.jobs) groups.set(job.group, [...(groups.get(job.group) ?? []), job]);
  for (const [group, jobs] of groups) {
    lines.push('', group);
    for (const job of jobs) lines.push(`  ${jobLine(job)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function jobLine(job: JobStatus): string {
  const done = job.summary ?? (job.outcome === 'skipped' ? 'up to date' : 'built');
  const state =
    job.state === 'done' ? `${done}${job.reused === true ? ' (earlier)' : ''}` : job.orphaned === true ? 'running (no live worker: will be retried when one starts)' : job.state;
  const where = job.worker === undefined ? '' : ` [${job.worker}]`;
  if (job.error === undefined || job.state !== 'failed') return `${job.label}: ${state}${where}`;
  const output = job.error.output === undefined ? '' : `\n${indent(job.error.output.trimEnd())}`;
  return `${job.label}: FAILED ${job.error.code}: ${job.error.message}${output}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
}
