import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuilderContext, DistroBuilder } from '../../builders/types.js';
import { KbuildError } from '../errors.js';
import type { Executor } from '../executor/types.js';
import type { IndexArtifact } from '@kbuild/loader';
import type { Logger } from '../log.js';
import { coreKey, nonCoreKey, recordKey } from '../store/keys.js';
import type { ArtifactStore } from '../store/types.js';
import { buildId, sha256Hex } from './build-id.js';
import { buildCoreObject, buildNonCoreObject, templateDigest } from './compile-job.js';
import { readIntactRecord } from './build-record.js';
import { storedBytesMatch } from '../store/stored-bytes.js';
import { btfRecordKey, readIntactBtfRecord, type ExternalBtfRecord } from '../btf/btf-record.js';
import { processBtfJob } from './external-btf-step.js';
import { prepareProject } from './project.js';
import { jobArch, jobKernel, jobLabel, type BuildJob, type CoreJob, type NonCoreJob } from './types.js';
import { makeScratch } from '../util/scratch.js';

export interface ProcessorDeps {
  readonly store: ArtifactStore;
  readonly executor: Executor;
  readonly cacheDir: string;
  readonly mirrors: Readonly<Record<string, string>>;
  readonly builderFor: (distro: string) => DistroBuilder | undefined;
  readonly log: Logger;
  /**
   * The executor for one job (kernels.yaml's per-kernel or per-distro choice,
   * see src/executor/open-executor.ts); `executor` when absent.
   */
  readonly executorFor?: (job: BuildJob) => Promise<Executor>;
  /** Called as the job moves through its stages, for progress displays. */
  readonly onStage?: (job: BuildJob, stage: JobStage) => void;
}

export type JobStage = 'check' | 'fetch' | 'compile' | 'store';

export interface JobOutcome {
  readonly status: 'built' | 'skipped';
  /** The object a non-CO-RE or CO-RE job built (or found built). */
  readonly artifact?: IndexArtifact;
  /** What an external-BTF job made (or found made); its `externalBtf` is absent when the kernel needs none. */
  readonly externalBtf?: ExternalBtfRecord;
  /** Whether anything was downloaded (header packages, kernel images). */
  readonly downloaded: boolean;
}

/** Everything a job's build step gets: where its project copy is, what to compile with. */
export interface JobWorkspace {
  readonly builder: DistroBuilder;
  readonly context: BuilderContext;
  readonly executorFor: (job: BuildJob) => Promise<Executor>;
  /**
   * The job's own copy of the probe's project, unpacked on first use: an
   * external-BTF job that finds its kernel has BTF, or reuses the stored CO-RE
   * object, never unpacks the bundle.
   */
  readonly project: () => Promise<string>;
  readonly scratch: string;
  readonly stage: (stage: JobStage) => void;
  readonly signal: AbortSignal | undefined;
}

/**
 * The one job processor: the in-process runner and queue workers both call
 * it. It skips a job whose result is already stored with the same build id,
 * and stores the object before its build record, so a record always names a
 * complete artifact.
 */
export async function processJob(job: BuildJob, deps: ProcessorDeps, signal?: AbortSignal): Promise<JobOutcome> {
  const stage = (s: JobStage): void => deps.onStage?.(job, s);
  stage('check');
  const executorFor = (j: BuildJob): Promise<Executor> => deps.executorFor?.(j) ?? Promise.resolve(deps.executor);
  const executor = await executorFor(job);
  const toolchain = await executor.toolchainId();
  const id = buildId(job, toolchain, await templateDigest());
  const done = await storedOutcome(job, id, deps.store);
  if (done !== undefined) {
    deps.log.debug({ job: jobLabel(job) }, 'up to date');
    return done;
  }

  const builder = deps.builderFor(jobKernel(job).distro);
  if (builder === undefined) throw new KbuildError('E_UNKNOWN_DISTRO', `no builder for distro "${jobKernel(job).distro}"`);
  const mirror = deps.mirrors[jobKernel(job).distro];
  const context: BuilderContext = {
    cacheDir: deps.cacheDir,
    ...(mirror === undefined ? {} : { mirror }),
    ...(signal === undefined ? {} : { signal }),
    log: (message, fields) => deps.log.info({ job: jobLabel(job), ...fields }, message),
  };

  const scratch = await makeScratch('kbuild-job-');
  try {
    let unpacked: Promise<string> | undefined;
    const project = (): Promise<string> =>
      (unpacked ??= prepareProject(job.probe, join(scratch, 'project'), { cacheDir: deps.cacheDir, store: deps.store }));
    const workspace: JobWorkspace = { builder, context, executorFor, project, scratch, stage, signal };
    if (job.kind === 'btf') {
      const record = await processBtfJob(job, id, workspace, deps);
      stage('store');
      await deps.store.putBytes(btfRecordKey(job.probe.name, job.kernel), Buffer.from(`${JSON.stringify(record.record, null, 2)}\n`));
      return { status: 'built', externalBtf: record.record, downloaded: record.downloaded };
    }
    return await buildObject(job, id, toolchain, executor, workspace, deps.store);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function storedOutcome(job: BuildJob, id: string, store: ArtifactStore): Promise<JobOutcome | undefined> {
  const stored = await storedResult(job, store);
  const storedId = stored?.artifact?.buildId ?? stored?.externalBtf?.buildId;
  return stored !== undefined && storedId === id ? { status: 'skipped', ...stored, downloaded: false } : undefined;
}

/** What the store holds for a job (any build id), intact: its object's record, or its external-BTF record. */
export async function storedResult(job: BuildJob, store: ArtifactStore): Promise<Pick<JobOutcome, 'artifact' | 'externalBtf'> | undefined> {
  if (job.kind === 'btf') {
    const record = await readIntactBtfRecord(store, btfRecordKey(job.probe.name, job.kernel));
    return record === undefined ? undefined : { externalBtf: record };
  }
  const record = await readIntactRecord(store, artifactKey(job));
  return record === undefined ? undefined : { artifact: record };
}

async function buildObject(job: NonCoreJob | CoreJob, id: string, toolchain: string, executor: Executor, w: JobWorkspace, store: ArtifactStore): Promise<JobOutcome> {
  const outFile = join(w.scratch, 'out', 'probe.o');
  await mkdir(join(w.scratch, 'out'));
  const c = { builder: w.builder, context: w.context, executor, probeDir: await w.project(), scratch: w.scratch, outFile, stage: w.stage, signal: w.signal };
  const built = job.kind === 'core' ? await buildCoreObject(job, c) : await buildNonCoreObject(job, c);

  w.stage('store');
  const key = artifactKey(job);
  const packageVersion = job.kind === 'non-core' ? built.sources[0]?.version : undefined;
  const bytes = await readFile(outFile);
  const artifact: IndexArtifact = {
    path: key,
    probe: job.probe.name,
    kind: job.kind,
    arch: jobArch(job),
    kernel: { ...jobKernel(job), ...(packageVersion === undefined ? {} : { packageVersion }) },
    size: bytes.length,
    sha256: sha256Hex(bytes),
    buildId: id,
    toolchain,
    verification: [],
    sources: [...built.sources],
    ...(built.buildConfig === undefined ? {} : { buildConfig: built.buildConfig }),
    ...(built.warnings.trim() === '' ? {} : { warnings: built.warnings }),
  };
  await store.putFile(key, outFile);
  const verification = await verifyStored(store, artifact);
  const record: IndexArtifact = { ...artifact, verification: [verification] };
  await store.putBytes(recordKey(key), Buffer.from(`${JSON.stringify(record, null, 2)}\n`));
  return { status: 'built', artifact: record, downloaded: built.downloaded };
}

/** Where a non-CO-RE or CO-RE job's object lives in the store (external-BTF jobs: btfRecordKey). */
export function artifactKey(job: NonCoreJob | CoreJob): string {
  if (job.kind === 'core') return coreKey(job.probe.name, job.arch);
  return nonCoreKey(job.probe.name, job.kernel.arch, job.kernel.distro, job.kernel.release);
}

/** Reads the stored bytes back: what the index will promise is what the store holds. */
async function verifyStored(store: ArtifactStore, artifact: IndexArtifact): Promise<IndexArtifact['verification'][number]> {
  if (!(await storedBytesMatch(store, artifact))) {
    throw new KbuildError('E_STORE_VERIFY', `${artifact.path}: stored bytes differ from the built object`, { retryable: true });
  }
  return { method: 'sha256', result: 'ok' };
}
