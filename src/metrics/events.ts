/**
 * What a worker's metrics count, reported from where it happens (the
 * download cache, the archive readers, the job stages) without those places
 * knowing about Prometheus: they call these functions, and whoever collects
 * (src/metrics/prometheus.ts, only in `kbuild worker --metrics`) subscribes.
 * With no subscriber every call is a no-op, so `kbuild build` pays nothing.
 */

export const PHASES = ['download', 'extract', 'compile', 'verify', 'publish'] as const;
export type Phase = (typeof PHASES)[number];

export interface MetricsSink {
  phase(phase: Phase, seconds: number): void;
  /** A lookup in one cache: `store` (a job whose result is stored already), `debs` (package files), or a tree kind. */
  cache(cache: string, hit: boolean): void;
  /** A queue job that ended (or will be retried): its kind (build, verify, publish) and how. */
  job(kind: string, outcome: string): void;
  /** One kernel's verification: its status (completed, boot-failed, ...) and each case's result. */
  verify(status: string, caseResults: readonly string[]): void;
}

const sinks = new Set<MetricsSink>();

/** Subscribes `sink` to every event; the returned function unsubscribes it. */
export function addMetricsSink(sink: MetricsSink): () => void {
  sinks.add(sink);
  return () => void sinks.delete(sink);
}

export function observePhase(phase: Phase, seconds: number): void {
  for (const sink of sinks) sink.phase(phase, seconds);
}

export function observeCache(cache: string, hit: boolean): void {
  for (const sink of sinks) sink.cache(cache, hit);
}

export function observeJob(kind: string, outcome: string): void {
  for (const sink of sinks) sink.job(kind, outcome);
}

export function observeVerify(status: string, caseResults: readonly string[]): void {
  for (const sink of sinks) sink.verify(status, caseResults);
}

/** Runs `fn` and records its duration as `phase`, whether it succeeds or throws. */
export async function timePhase<T>(phase: Phase, fn: () => Promise<T>): Promise<T> {
  if (sinks.size === 0) return fn();
  const started = process.hrtime.bigint();
  try {
    return await fn();
  } finally {
    observePhase(phase, Number(process.hrtime.bigint() - started) / 1e9);
  }
}

/**
 * A job's compile time from its stage changes: from entering `compile` to
 * entering the next stage (or `end()`, when the compile failed).
 */
export function compileClock(): { stage(stage: string): void; end(): void } {
  let since: bigint | undefined;
  const stop = (): void => {
    if (since !== undefined) observePhase('compile', Number(process.hrtime.bigint() - since) / 1e9);
    since = undefined;
  };
  return {
    stage(stage) {
      stop();
      if (stage === 'compile') since = process.hrtime.bigint();
    },
    end: stop,
  };
}
