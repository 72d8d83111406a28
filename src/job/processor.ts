import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuilderContext, DistroBuilder } from '../../builders/types.js';
import { KbuildError } from '../errors.js';
import type { Executor } from '../executor/types.js';
import type { IndexArtifact } from '../loader/index-schema.js';
import type { Logger } from '../log.js';
import { coreKey, nonCoreKey, recordKey } from '../store/keys.js';
import type { ArtifactStore } from '../store/types.js';
import { buildId, sha256Hex } from './build-id.js';
import { buildCoreObject, buildNonCoreObject, templateDigest } from './compile-job.js';
import { readIntactRecord } from './build-record.js';
import { storedBytesMatch } from '../store/stored-bytes.js';
import { externalBtfIntact } from '../btf/btf-store.js';
import { makeExternalBtf } from './external-btf-step.js';
import { jobArch, jobKernel, jobLabel, type BuildJob } from './types.js';

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
  readonly artifact: IndexArtifact;
  /** Whether anything was downloaded (header packages, kernel images). */
  readonly downloaded: boolean;
}

/**
 * The one job processor: the in-process runner and queue workers both call
 * it. It skips a job whose artifact is already stored with the same build id,
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
  const key = artifactKey(job);
  const existing = await readIntactRecord(deps.store, key);
  if (existing?.buildId === id && (await externalBtfIntact(deps.store, existing))) {
    deps.log.debug({ job: jobLabel(job), key }, 'artifact up to date');
    return { status: 'skipped', artifact: existing, downloaded: false };
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

  const scratch = await mkdtemp(join(tmpdir(), 'kbuild-job-'));
  try {
    const probeDir = join(scratch, 'probe');
    await mkdir(probeDir);
    for (const [name, text] of Object.entries(job.probe.files)) await writeFile(join(probeDir, name), text);
    const outFile = join(scratch, 'out', 'probe.o');
    await mkdir(join(scratch, 'out'));
    const built =
      job.kind === 'core'
        ? await buildCoreObject(job, { builder, context, executor, probeDir, scratch, outFile, stage, signal })
        : await buildNonCoreObject(job, { builder, context, executor, probeDir, scratch, outFile, stage, signal });

    let externalBtf: IndexArtifact['externalBtf'];
    let downloaded = built.downloaded;
    if (job.kind === 'non-core' && job.externalBtf !== undefined && (job.externalBtf.when === 'always' || built.kernelHasBtf === false)) {
      const made = await makeExternalBtf(job, job.externalBtf, {
        store: deps.store, executorFor, builderFor: deps.builderFor, context, probeDir, scratch, stage, signal,
      });
      externalBtf = made.btf;
      downloaded ||= made.downloaded;
    }

    stage('store');
    const packageVersion = built.sources[0]?.version;
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
      ...(externalBtf === undefined ? {} : { externalBtf }),
    };
    await deps.store.putFile(key, outFile);
    const verification = await verifyStored(deps.store, artifact);
    const record: IndexArtifact = { ...artifact, verification: [verification] };
    await deps.store.putBytes(recordKey(key), Buffer.from(`${JSON.stringify(record, null, 2)}\n`));
    return { status: 'built', artifact: record, downloaded };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export function artifactKey(job: BuildJob): string {
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
