import { loadKernelsFile } from '../../config/load-kernels-file.js';
import { sweepLeftoverScratch } from '../sweep-scratch.js';
import { KbuildError } from '../../errors.js';
import type { KernelIdentity } from '../../kernel/identity.js';
import type { S3Settings } from '@kbuild/loader/internal';
import { requireStoredIndex } from '../stored-index.js';
import { createLogger } from '../../log.js';
import { publishLockFor, refuseUnlockedS3 } from '../publish-lock-option.js';
import { updateIndex } from '../../runner/write-index.js';
import { noPublishLock } from '../../publish/publish-lock.js';
import { countQemuRecords, droppedVerifications, lostEntriesMessage, settleMs } from '../../publish/unlocked-check.js';
import { loadSigningKey } from '../../sign/signing-key.js';
import { openStore } from '../../store/open-store.js';
import { applyVerification } from '../../verify/stage/apply-index.js';
import { kernelsOfIndex, planCases } from '../../verify/stage/plan-cases.js';
import { probeChecks } from '../../verify/stage/probe-check.js';
import { outcomesJson, runVerifyStage } from '../../verify/stage/run-stage.js';
import { verifyReport } from '../../verify/stage/report.js';

export interface VerifyCommandOptions {
  readonly store: string;
  readonly kernels?: string;
  readonly kernel?: readonly string[];
  readonly timeout: number;
  readonly concurrency?: number;
  readonly signingKey?: string;
  readonly redis?: string;
  /** Publish to an S3 store without a lock (the user's promise that nothing else publishes there). */
  readonly unlocked?: boolean;
  readonly json?: boolean;
  readonly s3?: S3Settings;
}

/**
 * Boots every kernel the store's index (or --kernels) names and loads what the
 * index lists for it; the results go back into the index (locked, signed).
 * Exit 0 when nothing failed (not-verifiable and inconclusive are reported, not failures), 1
 * when a verification failed, 2 for bad input.
 */
export async function verifyCommand(opts: VerifyCommandOptions): Promise<number> {
  await sweepLeftoverScratch();
  const loaded = opts.kernels === undefined ? undefined : await loadKernelsFile(opts.kernels);
  const signingKey = opts.signingKey === undefined ? undefined : await loadSigningKey(opts.signingKey);
  refuseUnlockedS3(opts.store, opts.redis, opts.unlocked);
  const store = await openStore(opts.store, opts.s3 === undefined ? {} : { s3: opts.s3 });
  const lock = publishLockFor(store.location, opts.redis, opts.unlocked);
  const interrupt = new AbortController();
  const onSignal = (): void => interrupt.abort();
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    const { index, where } = await requireStoredIndex(store);
    const kernels = chooseKernels(loaded?.config.kernels ?? kernelsOfIndex(index.artifacts, index.kernelBtf), opts.kernel, where);
    const plans = planCases({
      kernels,
      artifacts: index.artifacts,
      kernelBtf: index.kernelBtf,
      ...(loaded === undefined ? {} : { checks: probeChecks(loaded.config.probes) }),
    });
    if (plans.length === 0) throw new KbuildError('E_NOTHING_TO_VERIFY', `${where} lists no artifact for ${kernels.map((k) => k.release).join(', ') || 'any kernel'}`, { exitCode: 2 });
    const stage = await runVerifyStage(plans, {
      store,
      log: createLogger(),
      ...(loaded?.config.mirrors === undefined ? {} : { mirrors: loaded.config.mirrors }),
      ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
      timeoutSeconds: opts.timeout,
      signal: interrupt.signal,
    });
    // Laid over the index as it is under the lock: only entries of the very bytes verified change.
    const written = await updateIndex(store, (stored) => applyVerification(stored ?? index, stage.outcomes), {
      ...(signingKey === undefined ? {} : { signingKey }),
      ...(lock === undefined ? {} : { lock }),
    });
    const dropped = lock === noPublishLock ? await droppedVerifications(store, written.index, settleMs(), interrupt.signal) : [];
    if (dropped.length > 0) process.stderr.write(lostEntriesMessage(dropped, countQemuRecords(written.index), 'verification records this verify', store.location));
    if (interrupt.signal.aborted) {
      process.stderr.write(`kbuild: interrupted; the index lists the ${stage.outcomes.length} kernels verified so far\n`);
      return 130;
    }
    const summary = { store: store.location, index: where, ...stage.summary };
    if (opts.json === true) process.stdout.write(`${JSON.stringify({ ...summary, kernels: outcomesJson(stage.outcomes) }, null, 2)}\n`);
    else process.stdout.write(verifyReport(stage.outcomes, stage.summary));
    return stage.summary.failed === 0 && dropped.length === 0 ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await store.close();
    await lock?.close();
  }
}

function chooseKernels(all: readonly (Omit<KernelIdentity, 'version'> & { readonly version?: string | undefined })[], releases: readonly string[] | undefined, where: string): KernelIdentity[] {
  const kernels = all.map((k) => ({ distro: k.distro, release: k.release, arch: k.arch, ...(k.version === undefined ? {} : { version: k.version }) }));
  if (releases === undefined || releases.length === 0) return kernels;
  const unknown = releases.filter((r) => !kernels.some((k) => k.release === r));
  if (unknown.length > 0) {
    throw new KbuildError('E_USAGE', `--kernel ${unknown.join(', ')}: not a kernel of ${where} (it has ${kernels.map((k) => k.release).join(', ')})`, { exitCode: 2 });
  }
  return kernels.filter((k) => releases.includes(k.release));
}
