import { availableParallelism } from 'node:os';
import { sweepLeftoverScratch } from '../sweep-scratch.js';
import { builderFor } from '../../../builders/registry.js';
import { cacheRoot } from '../../cache/cache-dir.js';
import type { ExecutorKind } from '../../config/kernels-schema.js';
import { openExecutors } from '../../executor/open-executor.js';
import { planBuild, publishBundles } from '../../job/plan.js';
import { readIntactRecord } from '../../job/build-record.js';
import { storedResult } from '../../job/processor.js';
import type { ExternalBtfRecord } from '../../btf/btf-record.js';
import { jobLabel, type BuildJob } from '../../job/types.js';
import type { IndexArtifact, ArtifactIndex } from '@kbuild/loader';
import type { ArtifactStore } from '../../store/types.js';
import { createLogger } from '../../log.js';
import { createReporter } from '../../progress/reporters.js';
import { runJobs, type JobResult } from '../../runner/run-jobs.js';
import { indexFromResults, writeIndex } from '../../runner/write-index.js';
import { openStore } from '../../store/open-store.js';
import type { S3Settings } from '@kbuild/loader/internal';
import { publishLockFor, refuseUnlockedS3 } from '../publish-lock-option.js';
import { noPublishLock } from '../../publish/publish-lock.js';
import { droppedEntries, lostEntriesMessage, settleMs } from '../../publish/unlocked-check.js';
import { runOnKernelsFile, type CommandOutcome } from '../command-outcome.js';
import { loadSigningKey } from '../../sign/signing-key.js';
import { GENERATOR } from '../../version.js';
import type { LoadedKernelsFile } from '../../config/load-kernels-file.js';
import { kernelLabel } from '../../kernel/identity.js';
import type { Logger } from '../../log.js';
import { applyVerification } from '../../verify/stage/apply-index.js';
import { planCases } from '../../verify/stage/plan-cases.js';
import { probeChecks } from '../../verify/stage/probe-check.js';
import { verifyReport } from '../../verify/stage/report.js';
import { outcomesJson, runVerifyStage, type VerifyStageResult } from '../../verify/stage/run-stage.js';
import { reportAfterPublish, writeReportBesideIndex } from '../../report/write-report.js';
import { coreCheckRequest, type CoreCheckScope } from '../../core-check/check-scope.js';
import { checkBeforePublish, publishCheckText, type PublishCheckSummary } from '../../core-check/publish-check.js';

export interface BuildOptions {
  readonly kernels: string;
  readonly out: string;
  readonly concurrency: number;
  readonly json?: boolean;
  /** Overrides every kernel's executor (kernels.yaml's `executor` / `executors`). */
  readonly executor?: ExecutorKind;
  readonly signingKey?: string;
  readonly redis?: string;
  /** Publish to an S3 store without a lock (the user's promise that nothing else publishes there). */
  readonly unlocked?: boolean;
  readonly s3?: S3Settings;
  /** Boot each kernel in QEMU and load what was built (default on; `--no-verify`). */
  readonly verify?: boolean;
  readonly verifyConcurrency?: number;
  readonly verifyTimeout?: number;
  /** Run the offline CO-RE check before publishing, on the build set's kernels or the whole archive. */
  readonly coreCheck?: CoreCheckScope;
}

/** The embedded default: plan, run every job in-process, write the index. Exit 0 only when all built. */
export async function buildCommand(opts: BuildOptions): Promise<number> {
  refuseUnlockedS3(opts.out, opts.redis, opts.unlocked);
  return runOnKernelsFile(opts.kernels, opts.json, (loaded) => buildKernelSet(loaded, opts));
}

/** Builds, verifies and publishes a loaded build set (`kbuild build`'s, or the kernels `kbuild sync` found). */
export async function buildKernelSet(loaded: LoadedKernelsFile, opts: Omit<BuildOptions, 'kernels'>): Promise<CommandOutcome> {
  const plan = await planBuild(loaded);
  await sweepLeftoverScratch();
  // Read before building: a bad key path fails in a second, not after the builds.
  const signingKey = opts.signingKey === undefined ? undefined : await loadSigningKey(opts.signingKey);
  const store = await openStore(opts.out, opts.s3 === undefined ? {} : { s3: opts.s3 });
  const lock = publishLockFor(store.location, opts.redis, opts.unlocked);
  const log = createLogger();
  const executors = openExecutors({ log, ...(opts.executor === undefined ? {} : { override: opts.executor }) });
  const started = Date.now();
  const interrupt = new AbortController();
  const onSignal = (): void => interrupt.abort();
  // `on`, not `once`: execa's signal-exit re-raises a signal that no other listener handles.
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    await executors.prepare(plan.jobs);
    await publishBundles(plan, store, cacheRoot());
    const results = await runJobs(
      plan.jobs,
      { store, executor: executors.local, executorFor: (job) => executors.executorFor(job), cacheDir: cacheRoot(), mirrors: plan.mirrors, builderFor, log },
      { concurrency: Math.min(opts.concurrency, availableParallelism() * 2), reporter: createReporter(), signal: interrupt.signal },
    );
    // Jobs that did not finish keep what the store already holds for them, so the index matches the store.
    const finished = new Set(results.filter((r) => r.status !== 'interrupted').map((r) => r.job));
    const untouched = await storedRecords(store, plan.jobs.filter((job) => !finished.has(job)));
    let index = indexFromResults(results, GENERATOR, untouched.artifacts, untouched.externalBtf);
    const verified = opts.verify === false || interrupt.signal.aborted ? undefined : await verifyBuilt(index, loaded, store, log, opts, interrupt.signal);
    if (verified !== undefined) index = applyVerification(index, verified.outcomes);
    let checked: PublishCheckSummary | undefined;
    if (opts.coreCheck !== undefined && !interrupt.signal.aborted) {
      const result = await checkBeforePublish(index, coreCheckRequest(opts.coreCheck, loaded.config), {
        store, cacheDir: cacheRoot(), signal: interrupt.signal, note: (line) => process.stderr.write(`kbuild: note: ${line}\n`),
      });
      index = result.index;
      checked = result.summary;
    }
    const written = await writeIndex(store, index, {
      ...(signingKey === undefined ? {} : { signingKey }),
      ...(lock === undefined ? {} : { lock }),
    });
    await reportAfterPublish(() => writeReportBesideIndex(store, written.index, { trust: signingKey === undefined ? { signed: false } : { signed: true, keyId: signingKey.keyId } }));
    const dropped = lock === noPublishLock ? await droppedEntries(store, index, settleMs(), interrupt.signal) : [];
    if (dropped.length > 0) process.stderr.write(lostEntriesMessage(dropped, index.artifacts.length, 'index entries this build', store.location));
    if (interrupt.signal.aborted) {
      process.stderr.write(`kbuild: interrupted after ${finished.size} of ${plan.jobs.length} jobs; index.json lists what the store holds\n`);
      return { exitCode: 130, json: null, text: '' };
    }
    const summary = summarize(results, Date.now() - started, store.location);
    const verify = verified === undefined ? { enabled: false } : { enabled: true, ...verified.summary, kernels: outcomesJson(verified.outcomes) };
    const text = humanSummary(summary, results) + (verified === undefined ? '' : verifyReport(verified.outcomes, verified.summary)) + (checked === undefined ? '' : publishCheckText(checked));
    const ok = summary.failed === 0 && (verified?.summary.failed ?? 0) === 0 && dropped.length === 0;
    return { exitCode: ok ? 0 : 1, json: { ...summary, verify, ...(checked === undefined ? {} : { coreCheck: checked }) }, text };
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await executors.close();
    await store.close();
    await lock?.close();
  }
}

/**
 * The verify stage: every kernel of the build set boots once and loads its own
 * object and its arch's CO-RE object (kernel BTF, external BTF). Where this
 * machine cannot boot a kernel, its entries say not-verifiable, with a warning.
 */
async function verifyBuilt(
  index: ArtifactIndex,
  loaded: LoadedKernelsFile,
  store: ArtifactStore,
  log: Logger,
  opts: Omit<BuildOptions, 'kernels'>,
  signal: AbortSignal,
): Promise<VerifyStageResult | undefined> {
  const plans = planCases({
    kernels: loaded.config.kernels.map((k) => ({ distro: k.distro, release: k.release, arch: k.arch, ...(k.version === undefined ? {} : { version: k.version }) })),
    artifacts: index.artifacts,
    kernelBtf: index.kernelBtf,
    checks: probeChecks(loaded.config.probes),
  });
  if (plans.length === 0) return undefined;
  const result = await runVerifyStage(plans, {
    store,
    log,
    mirrors: loaded.config.mirrors ?? {},
    ...(opts.verifyConcurrency === undefined ? {} : { concurrency: opts.verifyConcurrency }),
    ...(opts.verifyTimeout === undefined ? {} : { timeoutSeconds: opts.verifyTimeout }),
    signal,
  });
  const reasons = new Set(result.outcomes.filter((o) => o.status === 'not-verifiable' && o.detail !== undefined).map((o) => `${kernelLabel(o.kernel)}: ${o.detail}`));
  for (const reason of reasons) process.stderr.write(`kbuild: warning: not verified in QEMU: ${reason}\n`);
  return result;
}

async function storedRecords(store: ArtifactStore, jobs: readonly BuildJob[]): Promise<{ artifacts: IndexArtifact[]; externalBtf: ExternalBtfRecord[] }> {
  const stored = await Promise.all(jobs.map((job) => storedResult(job, store)));
  return {
    artifacts: stored.flatMap((s) => (s?.artifact === undefined ? [] : [s.artifact])),
    externalBtf: stored.flatMap((s) => (s?.externalBtf === undefined ? [] : [s.externalBtf])),
  };
}

function summarize(results: readonly JobResult[], durationMs: number, location: string) {
  return {
    store: location,
    index: `${location}/index.json`,
    durationMs,
    total: results.length,
    built: results.filter((r) => r.status === 'built').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    failed: results.filter((r) => r.status === 'failed').length,
    interrupted: results.filter((r) => r.status === 'interrupted').length,
    jobs: results.map((r) => ({
      job: jobLabel(r.job),
      kind: r.job.kind,
      status: r.status,
      durationMs: r.durationMs,
      ...(r.artifact === undefined ? {} : { path: r.artifact.path, sha256: r.artifact.sha256, size: r.artifact.size }),
      ...(r.error === undefined ? {} : { error: r.error }),
    })),
  };
}

const MAX_WARNING_LINES = 20;

function humanSummary(summary: ReturnType<typeof summarize>, results: readonly JobResult[]): string {
  const lines = [
    `${summary.built} built, ${summary.skipped} up to date, ${summary.failed} failed in ${(summary.durationMs / 1000).toFixed(1)}s`,
    `index: ${summary.index}`,
  ];
  // Only fresh builds: an up-to-date object's warnings were shown when it was built and stay in the index.
  for (const r of results.filter((x) => x.status === 'built' && x.artifact?.warnings !== undefined)) {
    const text = (r.artifact?.warnings ?? '').trimEnd().split('\n');
    lines.push(`\nwarnings of ${jobLabel(r.job)} (kept in the index with ${r.artifact?.path ?? 'the artifact'}):`);
    lines.push(...text.slice(0, MAX_WARNING_LINES));
    if (text.length > MAX_WARNING_LINES) lines.push(`... ${text.length - MAX_WARNING_LINES} more lines in the index`);
  }
  for (const r of results.filter((x) => x.status === 'failed')) {
    lines.push(`\nFAILED ${jobLabel(r.job)}: ${r.error?.message ?? ''}`);
    if (r.error?.output !== undefined) lines.push(r.error.output.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
