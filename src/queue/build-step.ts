import { builderFor } from '../../builders/registry.js';
import { cacheRoot } from '../cache/cache-dir.js';
import type { ExecutorSet } from '../executor/open-executor.js';
import type { Logger } from '../log.js';
import { processJob, type JobOutcome, type JobStage } from '../job/processor.js';
import type { ArtifactStore } from '../store/types.js';
import type { BuildJobData } from './job-data.js';

export type BuildOutcome = Omit<JobOutcome, 'downloaded'>;

/** What a worker does with one build job; the benchmark injects a trivial one through the same worker. */
export type BuildStep = (data: BuildJobData, signal: AbortSignal, onStage: (stage: JobStage) => void) => Promise<BuildOutcome>;

export interface BuildStepDeps {
  /** Each job runs where its kernels.yaml entry asked (local, or its distro's builder image). */
  readonly executors: ExecutorSet;
  readonly log: Logger;
  readonly openStore: (url: string) => Promise<ArtifactStore>;
}

/** The real build: the same processor `kbuild build` runs in-process. */
export function processorStep(deps: BuildStepDeps): BuildStep {
  return async (data, signal, onStage) => {
    const store = await deps.openStore(data.store);
    const outcome = await processJob(
      data.job,
      {
        store,
        executor: deps.executors.local,
        executorFor: (job) => deps.executors.executorFor(job),
        cacheDir: cacheRoot(),
        mirrors: data.mirrors,
        builderFor,
        log: deps.log,
        onStage: (_job, stage) => onStage(stage),
      },
      signal,
    );
    const { downloaded: _unused, ...rest } = outcome;
    return rest;
  };
}
