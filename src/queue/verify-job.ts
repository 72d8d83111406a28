import { createHash } from 'node:crypto';
import { DelayedError, type Job, type Queue } from 'bullmq';
import { z } from 'zod';
import { kernelBtfFromArtifacts } from '../btf/index-btf.js';
import { withBtfRecords } from '../btf/btf-record.js';
import { DistroName, KernelRelease, KernelVersion, ProbeName } from '../config/kernels-schema.js';
import { KbuildError } from '../errors.js';
import { ARCHES, kernelLabel, type KernelIdentity } from '../kernel/identity.js';
import type { BuildJob } from '../job/types.js';
import type { Logger } from '../log.js';
import type { ArtifactStore } from '../store/types.js';
import { ProbeCheckSchema } from '../verify/check-schema.js';
import type { KernelOutcome } from '../verify/stage/outcome.js';
import { planCases } from '../verify/stage/plan-cases.js';
import type { ProbeCheckChoice } from '../verify/stage/probe-check.js';
import { outcomeLine } from '../verify/stage/progress.js';
import { runVerifyStage } from '../verify/stage/run-stage.js';
import type { VerifyEngine } from '../verify/stage/engine.js';
import type { BuildJobResult } from './job-data.js';
import { isPending, jobStates } from './queue-view.js';
import { assertSeesFolders, SharedFolder } from './shared-folder.js';

/** A `verify` queue job: boot one kernel once its builds (its own and its arch's CO-RE ones) are done. */
export interface VerifyJobData {
  readonly kernel: KernelIdentity;
  /** Queue ids of the builds whose objects it loads. */
  readonly dependsOn: readonly string[];
  readonly store: string;
  readonly mirrors: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Per probe: its check, or why it has none. */
  readonly checks: Readonly<Record<string, ProbeCheckChoice>>;
  /** A folder store, with the token its submitter wrote there: a worker that does not see it refuses the job. */
  readonly shared?: readonly SharedFolder[];
}

/** The job's return value: the kernel's outcome, folded into the index by the publish step. */
export type VerifyJobResult = KernelOutcome & { readonly worker: string };

/** One kernel of a submission, as status lists it. */
export interface SubmittedVerify {
  readonly id: string;
  readonly label: string;
  readonly group: string;
  readonly kernel: KernelIdentity;
}

export const VERIFY = 'verify';

/** Content-addressed like build ids: the same kernel, builds, checks and store give the same job. */
export function verifyJobId(data: VerifyJobData): string {
  const k = data.kernel;
  const hash = createHash('sha256').update(JSON.stringify([k.distro, k.release, k.arch, k.version ?? '', [...data.dependsOn].sort(), data.checks, data.store]));
  return `v-${hash.digest('hex')}`;
}

/** Per kernel of the plan: the builds it depends on. */
export function verifyJobsFor(
  jobs: readonly BuildJob[],
  ids: readonly string[],
  kernels: readonly KernelIdentity[],
  base: Omit<VerifyJobData, 'kernel' | 'dependsOn'>,
): { data: VerifyJobData; id: string; submitted: SubmittedVerify }[] {
  return kernels.map((kernel) => {
    const dependsOn = jobs.flatMap((job, i) =>
      (job.kind === 'core' && job.arch === kernel.arch) || (job.kind !== 'core' && job.kernel.distro === kernel.distro && job.kernel.release === kernel.release && job.kernel.arch === kernel.arch)
        ? [ids[i]!]
        : [],
    );
    const data: VerifyJobData = { ...base, kernel, dependsOn };
    const id = verifyJobId(data);
    const group = `${kernel.distro} ${kernel.release} ${kernel.arch}`;
    return { data, id, submitted: { id, label: `verify ${kernelLabel(kernel)}`, group, kernel } };
  });
}

const Check = z.union([z.strictObject({ check: ProbeCheckSchema }), z.strictObject({ notVerifiable: z.string().max(512) })]);
const Data = z.strictObject({
  kernel: z.strictObject({ distro: DistroName, release: KernelRelease, arch: z.enum(ARCHES), version: KernelVersion.optional() }),
  dependsOn: z.array(z.string().regex(/^b-[0-9a-f]{64}$/)).max(10000),
  store: z.string().refine((s) => s.startsWith('/') || /^[a-z][a-z0-9+.-]*:\/\//i.test(s), 'an absolute folder or a store URL'),
  mirrors: z.record(z.string().regex(/^[a-z][a-z0-9]{1,31}$/), z.string().regex(/^https?:\/\//)),
  timeoutMs: z.number().int().positive(),
  checks: z.record(ProbeName, Check),
  shared: z.array(SharedFolder).max(16).optional(),
});

/** A worker takes jobs from Redis, not from a file it checked: every name is checked again. */
export function parseVerifyJobData(raw: unknown): VerifyJobData {
  const parsed = Data.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KbuildError('E_BAD_JOB', `malformed verify job: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data as VerifyJobData;
}

export interface VerifyJobDeps {
  readonly queue: Queue;
  readonly openStore: (url: string) => Promise<ArtifactStore>;
  readonly pollMs: number;
  readonly log: Logger;
  readonly worker: string;
  readonly out: (line: string) => void;
  readonly engine?: VerifyEngine;
}

/**
 * Waits (as a delayed job, like the publish step) until the kernel's builds
 * are done, then boots the kernel once and loads what they built. Builds that
 * failed have nothing to load; their failure is reported by their own job.
 */
export async function runVerifyJob(job: Job<VerifyJobData>, token: string | undefined, deps: VerifyJobDeps): Promise<VerifyJobResult> {
  const data = parseVerifyJobData(job.data);
  await assertSeesFolders(data.shared, deps.worker);
  const states = await jobStates(deps.queue, data.dependsOn);
  if ([...states.values()].some(isPending)) {
    await job.moveToDelayed(Date.now() + deps.pollMs, token);
    throw new DelayedError();
  }
  const results = await Promise.all(data.dependsOn.filter((id) => states.get(id) === 'done').map(async (id) => (await deps.queue.getJob(id))?.returnvalue as BuildJobResult | undefined));
  const artifacts = results.flatMap((r) => (r?.artifact === undefined ? [] : [r.artifact]));
  const store = await deps.openStore(data.store);
  const btfRecords = results.flatMap((r) => (r?.externalBtf === undefined ? [] : [r.externalBtf]));
  const kernelBtf = withBtfRecords(kernelBtfFromArtifacts(artifacts), btfRecords);
  const plans = planCases({ kernels: [data.kernel], artifacts, kernelBtf, checks: new Map(Object.entries(data.checks)) });
  const label = kernelLabel(data.kernel);
  if (plans.length === 0) return { kernel: data.kernel, status: 'not-verifiable', booted: false, seconds: 0, cases: [], detail: 'no build of this kernel succeeded', worker: deps.worker };
  deps.out(`${deps.worker}: verifying in ${label}`);
  const stage = await runVerifyStage(plans, {
    store,
    log: deps.log,
    mirrors: data.mirrors,
    concurrency: 1,
    timeoutSeconds: data.timeoutMs / 1000,
    progress: { start: () => {}, kernelStarted: () => {}, kernelDone: (o) => deps.out(`${deps.worker}: ${outcomeLine(o)}`), finish: () => {} },
    ...(deps.engine === undefined ? {} : { engine: deps.engine }),
  });
  const outcome = stage.outcomes[0];
  if (outcome === undefined) throw new KbuildError('E_INTERNAL', `verifying ${label} gave no outcome`);
  return { ...outcome, worker: deps.worker };
}
