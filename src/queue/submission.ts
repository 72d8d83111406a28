import type { CoreCheckRequest } from '../core-check/check-scope.js';
import type { Redis } from 'ioredis';
import { KbuildError } from '../errors.js';
import type { ProbeSpec } from '../job/probe-spec.js';
import { jobArch, jobKernel, jobLabel, type BuildJob } from '../job/types.js';
import { farmKey } from './settings.js';
import type { SubmittedVerify } from './verify-job.js';
import type { SharedFolder } from './shared-folder.js';

/** One build of a submission, its probe sources referenced by digest (they are stored once). */
export interface SubmittedJob {
  readonly id: string;
  readonly label: string;
  /** Groups the status display: a kernel, or "CO-RE <arch>". */
  readonly group: string;
  readonly spec: Record<string, unknown> & { readonly probe: string };
}

/** What `submit` recorded: enough for `status` and the publish step, without reading every job's data. */
export interface SubmissionRecord {
  readonly id: string;
  readonly createdAt: string;
  readonly store: string;
  readonly publishJobId: string;
  readonly probes: Readonly<Record<string, ProbeSpec>>;
  readonly jobs: readonly SubmittedJob[];
  /** One QEMU verification per kernel, run once its builds are done (absent: submitted with --no-verify). */
  readonly verifyJobs?: readonly SubmittedVerify[];
  /** The offline CO-RE check the publish step runs before writing the index (absent: none). */
  readonly coreCheck?: CoreCheckRequest;
  /** A folder store and the token its submitter wrote there, checked by the worker that publishes. */
  readonly shared?: readonly SharedFolder[];
}

export function submittedJob(id: string, job: BuildJob): SubmittedJob {
  const kernel = jobKernel(job);
  const group = job.kind === 'core' ? `CO-RE ${jobArch(job)}` : `${kernel.distro} ${kernel.release} ${kernel.arch}`;
  // Generic over job kinds and fields: only the probe spec is swapped for its digest.
  return { id, label: jobLabel(job), group, spec: { ...job, probe: job.probe.digest } };
}

export function rehydrate(record: SubmissionRecord, submitted: SubmittedJob): BuildJob {
  const probe = record.probes[submitted.spec.probe];
  if (probe === undefined) throw new KbuildError('E_SUBMISSION', `submission ${record.id}: no probe with digest ${submitted.spec.probe}`);
  return { ...submitted.spec, probe } as unknown as BuildJob;
}

export async function saveSubmission(redis: Redis, queue: string, record: SubmissionRecord): Promise<void> {
  await redis
    .multi()
    .set(farmKey(queue, 'submission', record.id), JSON.stringify(record))
    .zadd(farmKey(queue, 'submissions'), Date.now(), record.id)
    .exec();
}

/** A submission by id, or the latest one. */
export async function loadSubmission(redis: Redis, queue: string, id?: string): Promise<SubmissionRecord> {
  const wanted = id ?? (await redis.zrevrange(farmKey(queue, 'submissions'), 0, 0))[0];
  if (wanted === undefined) throw new KbuildError('E_NO_SUBMISSION', `queue "${queue}" has no submission`, { exitCode: 2 });
  if (!/^s-[0-9a-f]{20}$/.test(wanted)) throw new KbuildError('E_USAGE', `"${wanted}" is not a submission id (s-<20 hex digits>)`, { exitCode: 2 });
  const text = await redis.get(farmKey(queue, 'submission', wanted));
  if (text === null) throw new KbuildError('E_NO_SUBMISSION', `queue "${queue}" has no submission ${wanted}`, { exitCode: 2 });
  return JSON.parse(text) as SubmissionRecord;
}
