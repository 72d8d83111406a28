import type { CoreCheckRequest } from '../core-check/check-scope.js';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { templateDigest } from '../job/compile-job.js';
import type { BuildPlan } from '../job/plan.js';
import type { ProbeSpec } from '../job/probe-spec.js';
import { BUILD, PUBLISH, type BuildJobData, type PublishJobData } from './job-data.js';
import { queueJobId, submissionId } from './job-id.js';
import { queueJobName } from './job-name.js';
import { jobLabel } from '../job/types.js';
import { jobStates, publishState } from './queue-view.js';
import type { ArtifactStore } from '../store/types.js';
import type { BuildJobResult } from './job-data.js';
import { registeredToolchains } from './toolchains.js';
import { markShared, type SharedFolder } from './shared-folder.js';
import { localFolderOf } from '../store/fs-store.js';
import { KbuildError } from '../errors.js';
import type { BuildJob } from '../job/types.js';
import type { KernelIdentity } from '../kernel/identity.js';
import type { ProbeCheckChoice } from '../verify/stage/probe-check.js';
import { VERIFY, verifyJobsFor } from './verify-job.js';
import { saveSubmission, submittedJob, type SubmissionRecord } from './submission.js';

export interface SubmitOptions {
  /** Store URL as workers will open it (folders made absolute by the caller). */
  readonly store: string;
  /** The same store, opened: to notice finished jobs whose objects are no longer there. */
  readonly storeHandle: ArtifactStore;
  readonly timeoutMs: number;
  /** Attempts for retryable failures (network, archive 5xx), with exponential backoff. */
  readonly attempts: number;
  readonly backoffMs: number;
  /** Boot each kernel in QEMU once its builds are done (a verify job per kernel); absent: no verification. */
  readonly verify?: { readonly timeoutMs: number; readonly kernels: readonly KernelIdentity[]; readonly checks: Readonly<Record<string, ProbeCheckChoice>> };
  /** The publish step runs the offline CO-RE check before writing the index. */
  readonly coreCheck?: CoreCheckRequest;
}

export interface SubmitOutcome {
  readonly record: SubmissionRecord;
  /** Builds added to the queue by this call; 0 when the same set was submitted before. */
  readonly enqueued: number;
  /** Whether a publish step was (re)queued; false when this exact set is already published without failures. */
  readonly publishQueued: boolean;
  /** What the submitter could not arrange (a btf.archive folder it cannot write a share token into). */
  readonly notes: readonly string[];
}

/**
 * Puts a plan on the queue. Jobs are content-addressed, so a build already
 * queued, running or done is not added again; a build that failed before is
 * removed and added again (a resubmission is how a failure is retried).
 */
export async function submitPlan(queue: Queue, redis: Redis, plan: BuildPlan, options: SubmitOptions): Promise<SubmitOutcome> {
  const toolchains = await registeredToolchains(redis, queue.name);
  const template = await templateDigest();
  const ids = plan.jobs.map((job) => queueJobId(job, toolchains, template, options.store));
  const { store: storeShare, archives, notes } = await markFolders(plan.jobs, options.storeHandle);
  const verifies =
    options.verify === undefined
      ? []
      : verifyJobsFor(plan.jobs, ids, options.verify.kernels, { store: options.store, mirrors: plan.mirrors, timeoutMs: options.verify.timeoutMs, checks: options.verify.checks, ...withShared(storeShare) });
  const id = submissionId([...ids, ...verifies.map((v) => v.id)], options.store);
  const probes: Record<string, ProbeSpec> = {};
  for (const job of plan.jobs) probes[job.probe.digest] = job.probe;
  const record: SubmissionRecord = {
    id,
    createdAt: new Date().toISOString(),
    store: options.store,
    publishJobId: `p-${id}`,
    probes,
    jobs: plan.jobs.map((job, i) => submittedJob(ids[i]!, job)),
    ...(options.verify === undefined ? {} : { verifyJobs: verifies.map((v) => v.submitted) }),
    ...(options.coreCheck === undefined ? {} : { coreCheck: options.coreCheck }),
    ...withShared(storeShare),
  };

  const published = await publishState(queue, record.publishJobId);
  const states = await jobStates(queue, ids);
  // A finished job whose object left the store (a wiped folder) is built again, not reused: like a failure, it is removed and re-added.
  for (const gone of await vanished(queue, ids.filter((jobId) => states.get(jobId) === 'done'), options.storeHandle)) states.set(gone, 'failed');
  const verifyStates = await jobStates(queue, verifies.map((v) => v.id));
  // A check asked for now is run by a publish step now: the stored index may hold none, or older predictions.
  const alreadyDone = options.coreCheck === undefined &&
    published.state === 'published' && published.result?.failures === 0 && [...states.values(), ...verifyStates.values()].every((s) => s === 'done');
  await saveSubmission(redis, queue.name, record);
  if (alreadyDone) return { record, enqueued: 0, publishQueued: false, notes };

  const fresh = plan.jobs.flatMap((job, i) => {
    const state = states.get(ids[i]!);
    return state === 'missing' || state === 'failed' ? [{ job, id: ids[i]!, state }] : [];
  });
  // Removed first: a job id that exists is never added again.
  await Promise.all(fresh.filter((f) => f.state === 'failed').map((f) => queue.remove(f.id)));
  await queue.addBulk(
    fresh.map(({ job, id: jobId }) => ({
      name: queueJobName(BUILD, jobLabel(job)),
      data: { job, store: options.store, mirrors: plan.mirrors, timeoutMs: options.timeoutMs, ...withShared([...storeShare, ...archiveOf(job, archives)]) } satisfies BuildJobData,
      opts: {
        jobId,
        attempts: options.attempts,
        backoff: { type: 'exponential', delay: options.backoffMs },
        // Kept: a finished job is what makes an identical resubmission enqueue nothing.
        removeOnComplete: false,
        removeOnFail: false,
      },
    })),
  );
  // A kernel is verified again when it failed as a job or one of its builds runs again (new objects to load).
  const rebuilt = new Set(fresh.map((f) => f.id));
  const freshVerifies = verifies.filter((v) => {
    const state = verifyStates.get(v.id);
    return state === 'missing' || state === 'failed' || (state === 'done' && v.data.dependsOn.some((dep) => rebuilt.has(dep)));
  });
  await Promise.all(freshVerifies.filter((v) => verifyStates.get(v.id) !== 'missing').map((v) => queue.remove(v.id)));
  await queue.addBulk(
    freshVerifies.map((v) => ({
      name: queueJobName(VERIFY, v.submitted.group),
      data: v.data,
      opts: { jobId: v.id, attempts: options.attempts, backoff: { type: 'exponential', delay: options.backoffMs }, removeOnComplete: false, removeOnFail: false },
    })),
  );
  // The publish step runs again when earlier results changed (failures retried, new builds).
  const publishQueued = published.state !== 'pending';
  if (published.state === 'published' || published.state === 'failed') await queue.remove(record.publishJobId);
  if (publishQueued) {
    await queue.add(queueJobName(PUBLISH, publishLabel(record)), { submission: id } satisfies PublishJobData, {
      jobId: record.publishJobId,
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffMs },
      removeOnComplete: false,
      removeOnFail: false,
    });
  }
  return { record, enqueued: fresh.length + freshVerifies.length, publishQueued, notes };
}

/** "s-… execve, open: 12 builds, 3 verifies": the submission and what it publishes. */
function publishLabel(record: SubmissionRecord): string {
  const probes = [...new Set(Object.values(record.probes).map((p) => p.name))].sort().join(', ');
  const verifies = record.verifyJobs?.length ?? 0;
  return `${record.id} ${probes}: ${record.jobs.length} build${record.jobs.length === 1 ? '' : 's'}${verifies === 0 ? '' : `, ${verifies} verif${verifies === 1 ? 'y' : 'ies'}`}`;
}

const withShared = (folders: readonly SharedFolder[]): { shared?: readonly SharedFolder[] } => (folders.length === 0 ? {} : { shared: folders });

function archiveOf(job: BuildJob, archives: ReadonlyMap<string, SharedFolder>): SharedFolder[] {
  const archive = job.kind === 'btf' ? archives.get(job.request.archive ?? '') : undefined;
  return archive === undefined ? [] : [archive];
}

/**
 * A share token in the folder store and in every btf.archive folder the plan
 * reads, for workers to check they see the same folders (S3 stores and http(s)
 * archives are the same wherever they are opened). An archive folder the
 * submitter cannot write is read by workers unchecked, with a note.
 */
async function markFolders(jobs: readonly BuildJob[], store: ArtifactStore): Promise<{ store: SharedFolder[]; archives: Map<string, SharedFolder>; notes: string[] }> {
  const folder = localFolderOf(store);
  const storeShare = folder === undefined ? [] : [await markShared('store', folder)];
  const archives = new Map<string, SharedFolder>();
  const notes: string[] = [];
  const folders = new Set(jobs.flatMap((job) => (job.kind === 'btf' && job.request.archive?.startsWith('/') === true ? [job.request.archive] : [])));
  for (const archive of folders) {
    try {
      archives.set(archive, await markShared('btf-archive', archive));
    } catch (err) {
      if (!(err instanceof KbuildError)) throw err;
      notes.push(`${err.message}; workers will read ${archive} unchecked`);
    }
  }
  return { store: storeShare, archives, notes };
}

/** Finished jobs whose artifact is missing from the store or has another size. */
async function vanished(queue: Queue, ids: readonly string[], store: ArtifactStore): Promise<string[]> {
  const checks = await Promise.all(
    ids.map(async (jobId) => {
      const artifact = ((await queue.getJob(jobId))?.returnvalue as BuildJobResult | undefined)?.artifact;
      if (artifact === undefined) return jobId;
      const info = await store.stat(artifact.path);
      return info?.size === artifact.size ? undefined : jobId;
    }),
  );
  return checks.filter((jobId): jobId is string => jobId !== undefined);
}
