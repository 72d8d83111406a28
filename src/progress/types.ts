import type { JobStage } from '../job/processor.js';
import type { BuildJob } from '../job/types.js';
import type { JobResult } from '../runner/run-jobs.js';

/** Long work shows progress: a bar on a terminal, plain lines elsewhere. */
export interface ProgressReporter {
  start(total: number): void;
  stage(job: BuildJob, stage: JobStage): void;
  done(result: JobResult): void;
  finish(results: readonly JobResult[]): void;
}
