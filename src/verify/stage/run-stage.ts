import { availableParallelism } from 'node:os';
import { builderFor } from '../../../builders/registry.js';
import { cacheRoot } from '../../cache/cache-dir.js';
import type { Logger } from '../../log.js';
import type { ArtifactStore } from '../../store/types.js';
import { loadEngine, type VerifyEngine } from './engine.js';
import { countResults, type KernelOutcome } from './outcome.js';
import type { KernelPlan } from './plan-cases.js';
import { createVerifyProgress, type VerifyProgress } from './progress.js';
import { verifyKernels } from './verify-kernels.js';

/** TCG boots are slow: a kernel gets five minutes unless told otherwise. */
export const DEFAULT_VERIFY_TIMEOUT_S = 300;

export interface VerifyStageOptions {
  readonly store: ArtifactStore;
  readonly log: Logger;
  readonly mirrors?: Readonly<Record<string, string>>;
  /** Kernels booted at once (default: the machine's cores). */
  readonly concurrency?: number;
  readonly timeoutSeconds?: number;
  readonly signal?: AbortSignal;
  readonly progress?: VerifyProgress;
  readonly engine?: VerifyEngine;
}

export interface VerifyStageResult {
  readonly outcomes: readonly KernelOutcome[];
  readonly summary: ReturnType<typeof countResults> & { readonly kernels: number; readonly durationMs: number };
}

/** The verify stage of `build`, `submit`'s workers and `kbuild verify`: boots each planned kernel once. */
export async function runVerifyStage(plans: readonly KernelPlan[], options: VerifyStageOptions): Promise<VerifyStageResult> {
  const started = Date.now();
  const engine = options.engine ?? (await loadEngine());
  const progress = options.progress ?? createVerifyProgress();
  progress.start(plans.length);
  let outcomes: KernelOutcome[];
  try {
    outcomes = await verifyKernels(plans, {
      engine,
      store: options.store,
      concurrency: options.concurrency ?? availableParallelism(),
      timeoutMs: (options.timeoutSeconds ?? DEFAULT_VERIFY_TIMEOUT_S) * 1000,
      cacheDir: cacheRoot(),
      mirrors: options.mirrors ?? {},
      builderFor,
      log: options.log,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onStart: (kernel) => progress.kernelStarted(kernel),
      onKernel: (outcome) => progress.kernelDone(outcome),
    });
  } finally {
    progress.finish();
  }
  return { outcomes, summary: { kernels: plans.length, durationMs: Date.now() - started, ...countResults(outcomes) } };
}

/** The JSON form of outcomes (for --json): per kernel, per case and program, with the log's store path instead of its text. */
export function outcomesJson(outcomes: readonly KernelOutcome[]): unknown[] {
  return outcomes.map((o) => ({
    kernel: o.kernel,
    status: o.status,
    booted: o.booted,
    seconds: o.seconds,
    ...(o.detail === undefined ? {} : { detail: o.detail }),
    cases: o.cases.map((c) => ({
      probe: c.probe,
      path: c.artifactPath,
      mode: c.mode,
      result: c.entry.result,
      cached: c.cached,
      ...(c.entry.detail === undefined ? {} : { detail: c.entry.detail }),
      ...(c.entry.events === undefined ? {} : { events: c.entry.events }),
      ...(c.entry.bootedRelease === undefined ? {} : { bootedRelease: c.entry.bootedRelease }),
      ...(c.entry.programs === undefined ? {} : { programs: c.entry.programs }),
      ...(c.entry.firstError === undefined ? {} : { firstError: c.entry.firstError }),
      ...(c.entry.log === undefined ? {} : { log: c.entry.log.path }),
    })),
  }));
}
