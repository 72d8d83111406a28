import { DelayedError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { storedBytesMatch } from '../store/stored-bytes.js';
import { storedResult } from '../job/processor.js';
import { RedisPublishLock } from '../publish/redis-lock.js';
import { indexFromResults, writeIndex } from '../runner/write-index.js';
import type { SigningKey } from '../sign/signing-key.js';
import type { JobResult } from '../runner/run-jobs.js';
import type { ArtifactStore } from '../store/types.js';
import { GENERATOR } from '../version.js';
import type { PublishJobData, PublishJobResult } from './job-data.js';
import { describeFailure, failureReason } from './failure.js';
import { assertSeesFolders } from './shared-folder.js';
import { isPending, jobDetail, jobStates } from './queue-view.js';
import { loadSubmission, rehydrate, type SubmissionRecord } from './submission.js';
import { applyVerification } from '../verify/stage/apply-index.js';
import type { VerifyJobResult } from './verify-job.js';
import { cacheRoot } from '../cache/cache-dir.js';
import { checkBeforePublish } from '../core-check/publish-check.js';

export interface PublishDeps {
  readonly queue: Queue;
  readonly redis: Redis;
  readonly queueName: string;
  readonly openStore: (url: string) => Promise<ArtifactStore>;
  /** How long the publish step waits before looking again at unfinished builds. */
  readonly pollMs: number;
  /** `host:pid` of the worker running the step, for messages. */
  readonly worker: string;
  /** Signs index.json; the worker's --signing-key (or KBUILD_SIGNING_KEY). Unsigned when absent. */
  readonly signingKey?: SigningKey;
}

/**
 * The final step of a submission. It is a queue job like the builds, so any
 * worker runs it and stalled-job recovery covers it; while builds are still
 * pending it puts itself back as delayed. This stands in for a BullMQ flow
 * parent: a flow child can have one parent only, while here the same build
 * (same content-addressed id) can belong to several submissions, and a build
 * that fails or is removed can never leave the publish step waiting forever.
 */
export async function publishSubmission(job: Job<PublishJobData>, token: string | undefined, deps: PublishDeps): Promise<PublishJobResult> {
  const record = await loadSubmission(deps.redis, deps.queueName, job.data.submission);
  const states = await jobStates(deps.queue, record.jobs.map((j) => j.id));
  const verifyStates = await jobStates(deps.queue, (record.verifyJobs ?? []).map((v) => v.id));
  if ([...states.values(), ...verifyStates.values()].some(isPending)) {
    await job.moveToDelayed(Date.now() + deps.pollMs, token);
    throw new DelayedError();
  }
  // A worker that sees another folder than the submitter's would publish an index of its own copy: refused for good.
  await assertSeesFolders(record.shared, deps.worker).catch((err: unknown) => {
    throw new UnrecoverableError(failureReason(describeFailure(err)));
  });
  const store = await deps.openStore(record.store);
  const results = await Promise.all(record.jobs.map((submitted, i) => resultOf(record, i, states.get(submitted.id), deps.queue, store)));
  // Verify jobs' outcomes become the artifacts' qemu entries (only for the very bytes they loaded).
  const outcomes = await Promise.all(
    (record.verifyJobs ?? []).filter((v) => verifyStates.get(v.id) === 'done').map(async (v) => (await deps.queue.getJob(v.id))?.returnvalue as VerifyJobResult | undefined),
  );
  let index = applyVerification(indexFromResults(results, GENERATOR), outcomes.filter((o): o is VerifyJobResult => o !== undefined));
  // The check reads the CO-RE objects from the store and each kernel's BTF from this worker's cache.
  const checked = record.coreCheck === undefined ? undefined : await checkBeforePublish(index, record.coreCheck, { store, cacheDir: cacheRoot() });
  if (checked !== undefined) index = checked.index;
  // The one place a farm submission writes its index: merged into the stored one under the farm's
  // Redis lock, so publishers on any machine (and `kbuild build --redis`) never lose each other's entries.
  const lock = new RedisPublishLock(deps.redis, store.location);
  await writeIndex(store, index, { lock, ...(deps.signingKey === undefined ? {} : { signingKey: deps.signingKey }) });
  // Built, then refused here: the submitter must count these as failures, not as done.
  const unpublished = record.jobs.flatMap((submitted, i) => {
    const r = results[i];
    return states.get(submitted.id) === 'done' && r?.status === 'failed' && r.error !== undefined ? [{ id: submitted.id, code: r.error.code, message: r.error.message }] : [];
  });
  return {
    index: `${store.location}/index.json`, artifacts: index.artifacts.length, failures: index.failures.length,
    ...(unpublished.length === 0 ? {} : { unpublished }),
    ...(checked === undefined ? {} : { coreCheck: checked.summary }),
  };
}

async function resultOf(record: SubmissionRecord, i: number, state: string | undefined, queue: Queue, store: ArtifactStore): Promise<JobResult> {
  const submitted = record.jobs[i]!;
  const job = rehydrate(record, submitted);
  const detail = await jobDetail(queue, submitted.id, state === 'done' || state === 'failed' ? state : undefined);
  const base = { job, downloaded: false, durationMs: detail.result?.durationMs ?? 0 };
  const result = detail.result;
  if (result?.artifact !== undefined) {
    // Another submission may have replaced the object since: the index only promises what the store holds.
    if (await storedBytesMatch(store, result.artifact)) return { ...base, status: result.status, artifact: result.artifact };
    return { ...base, status: 'failed', error: { code: 'E_SUPERSEDED', message: `${result.artifact.path} changed in the store after this build; resubmit` } };
  }
  if (result !== undefined) {
    const blob = result.externalBtf?.externalBtf?.btf;
    if (blob === undefined || (await storedBytesMatch(store, blob))) return { ...base, status: result.status, ...(result.externalBtf === undefined ? {} : { externalBtf: result.externalBtf }) };
    return { ...base, status: 'failed', error: { code: 'E_SUPERSEDED', message: `${blob.path} is missing from the store; resubmit` } };
  }
  if (detail.failure !== undefined) return { ...base, status: 'failed', error: detail.failure };
  // The queue no longer remembers the job (removed): the store's intact record is what was built.
  const stored = await storedResult(job, store);
  if (stored !== undefined) return { ...base, status: 'skipped', ...stored };
  return { ...base, status: 'failed', error: { code: 'E_MISSING', message: 'the queue lost this job and the store has no artifact for it; resubmit' } };
}
