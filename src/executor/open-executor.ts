import type { ExecutorKind } from '../config/kernels-schema.js';
import type { Logger } from '../log.js';
import { jobKernel, jobLabel, type BuildJob } from '../job/types.js';
import { DockerExecutor } from './docker.js';
import { LocalExecutor } from './local.js';
import type { Executor } from './types.js';

/**
 * The one place executors are chosen and made. Precedence: the command
 * line's --executor, then the job's own choice (its kernels.yaml entry, else
 * the file's per-distro default, copied into the job by the planner so queued
 * jobs carry it), then local. A Docker executor is opened once per distro
 * (its builder image), on first use.
 */

export interface ExecutorSet {
  /** For ProcessorDeps.executor: the local toolchain. */
  readonly local: Executor;
  executorFor(job: BuildJob): Promise<Executor>;
  /** Opens every executor `jobs` need, so a missing engine or image fails before any job starts. */
  prepare(jobs: readonly BuildJob[]): Promise<void>;
  /** Removes containers still running; idempotent. */
  close(): Promise<void>;
}

export interface ExecutorSetOptions {
  readonly override?: ExecutorKind;
  readonly log: Logger;
}

export function executorKindFor(job: BuildJob, override?: ExecutorKind): ExecutorKind {
  return override ?? (job.kind === 'btf' ? job.request.coreExecutor : job.executor) ?? 'local';
}

export function openExecutors(options: ExecutorSetOptions): ExecutorSet {
  const local = new LocalExecutor();
  const docker = new Map<string, Promise<DockerExecutor>>();
  const dockerFor = (distro: string): Promise<DockerExecutor> => {
    let opened = docker.get(distro);
    if (opened === undefined) {
      opened = DockerExecutor.open(distro, { log: options.log });
      docker.set(distro, opened);
      opened.catch(() => docker.delete(distro));
    }
    return opened;
  };
  return {
    local,
    async executorFor(job) {
      if (executorKindFor(job, options.override) === 'local') return local;
      return (await dockerFor(jobKernel(job).distro)).withLog(options.log.child({ job: jobLabel(job) }));
    },
    async prepare(jobs) {
      const distros = new Set(jobs.filter((j) => executorKindFor(j, options.override) === 'docker').map((j) => jobKernel(j).distro));
      await Promise.all([...distros].map(async (d) => (await dockerFor(d)).toolchainId()));
    },
    async close() {
      const opened = await Promise.allSettled(docker.values());
      await Promise.allSettled(opened.map((o) => (o.status === 'fulfilled' ? o.value.close() : undefined)));
    },
  };
}
