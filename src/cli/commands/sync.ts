import type { CoreCheckScope } from '../../core-check/check-scope.js';
import { loadKernelsFile, type LoadedKernelsFile } from '../../config/load-kernels-file.js';
import { crawlKernels, type CrawlFilter } from '../../crawl/crawl-kernels.js';
import { KbuildError } from '../../errors.js';
import { planBuild } from '../../job/plan.js';
import type { Arch } from '../../kernel/identity.js';
import type { S3Settings } from '@kbuild/loader/internal';
import { startCommandProgress } from '../../progress/command-progress.js';
import { readStoredIndex } from '../../publish/signed-index.js';
import { parseIndex } from '@kbuild/loader/internal';
import { INDEX_KEY } from '../../store/keys.js';
import { loadSigningKey } from '../../sign/signing-key.js';
import { openStore } from '../../store/open-store.js';
import { kernelsToBuild, syncKernelSet, type SyncKernel } from '../../sync/new-kernels.js';
import { refuseUnlockedS3 } from '../publish-lock-option.js';
import type { CommandOutcome } from '../command-outcome.js';

export interface SyncOptions extends CrawlFilter {
  readonly kernels: string;
  readonly distro: readonly string[];
  readonly arch: readonly Arch[];
  /** Crawl mirror when one distro is synced (else kernels.yaml's mirrors, else the distro's default). */
  readonly mirror?: string;
  readonly store: string;
  /** Submit to the farm on this Redis instead of building here. */
  readonly redis?: string;
  readonly queue?: string;
  readonly wait?: boolean;
  readonly signingKey?: string;
  readonly unlocked?: boolean;
  readonly s3?: S3Settings;
  readonly concurrency: number;
  readonly verify?: boolean;
  readonly verifyConcurrency?: number;
  readonly verifyTimeout?: number;
  readonly coreCheck?: CoreCheckScope;
  readonly jobTimeout: number;
  readonly attempts: number;
  /** Seconds between rounds; absent: one round. */
  readonly interval?: number;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

interface Round {
  readonly exitCode: number;
  readonly report: Record<string, unknown>;
  readonly text: string;
}

const label = (k: SyncKernel): string => `${k.distro} ${k.release} ${k.arch} (${k.packageVersion} from ${k.source})`;

async function crawlAll(opts: SyncOptions, loaded: LoadedKernelsFile): Promise<SyncKernel[]> {
  const progress = startCommandProgress();
  try {
    const found: SyncKernel[] = [];
    for (const distro of opts.distro) {
      const mirror = opts.distro.length === 1 && opts.mirror !== undefined ? opts.mirror : loaded.config.mirrors?.[distro];
      const kernels = await crawlKernels({ ...opts, distro, ...(mirror === undefined ? {} : { mirror }), note: (line) => progress.note(line) });
      found.push(...kernels.map((k) => ({ ...k, distro })));
    }
    return found;
  } finally {
    progress.close();
  }
}

/**
 * What the store holds. With the signing key, the index is checked as a publish
 * would (signature, interrupted publish). Without one (a dry run, a submission
 * whose workers sign) it is only compared against: a signed store must not need
 * the private key to say what it lacks, and whatever publishes checks it again.
 */
async function storedIndex(opts: SyncOptions) {
  const signingKey = opts.signingKey === undefined ? undefined : await loadSigningKey(opts.signingKey);
  const store = await openStore(opts.store, opts.s3 === undefined ? {} : { s3: opts.s3 });
  try {
    if (signingKey === undefined) {
      const bytes = await store.get(INDEX_KEY);
      return bytes === undefined ? undefined : parseIndex(bytes.toString('utf8'), `${store.location}/${INDEX_KEY}`);
    }
    return await readStoredIndex(store, signingKey);
  } finally {
    await store.close();
  }
}

/** One crawl → compare → build (or submit) of what is new. */
async function syncRound(opts: SyncOptions): Promise<Round> {
  const loaded = await loadKernelsFile(opts.kernels);
  const perKernelProbes = [...new Set((await planBuild(loaded)).jobs.filter((j) => j.kind === 'non-core').map((j) => j.probe.name))];
  const crawled = await crawlAll(opts, loaded);
  const index = await storedIndex(opts);
  const added = kernelsToBuild(crawled, index, perKernelProbes);
  const report = {
    store: opts.store,
    crawled: crawled.length,
    alreadyBuilt: crawled.length - added.length,
    added: added.map((k) => ({ distro: k.distro, release: k.release, arch: k.arch, packageVersion: k.packageVersion, source: k.source })),
  };
  const lines = [...added.map((k) => `${opts.dryRun === true ? 'would add' : 'added'} ${label(k)}`), `${added.length} new of ${crawled.length} kernels crawled`];
  if (added.length === 0 || opts.dryRun === true) return { exitCode: 0, report, text: `${lines.join('\n')}\n` };
  const set = syncKernelSet(loaded, added, index);
  const outcome = opts.redis === undefined ? await buildHere(set, opts) : await submitToFarm(set, opts, opts.redis);
  const key = opts.redis === undefined ? 'build' : 'submit';
  return { exitCode: outcome.exitCode, report: { ...report, [key]: outcome.json }, text: `${lines.join('\n')}\n${outcome.text}` };
}

const verifyFlags = (opts: SyncOptions) => ({
  ...(opts.verify === undefined ? {} : { verify: opts.verify }),
  ...(opts.coreCheck === undefined ? {} : { coreCheck: opts.coreCheck }),
  ...(opts.verifyTimeout === undefined ? {} : { verifyTimeout: opts.verifyTimeout }),
});

async function submitToFarm(set: LoadedKernelsFile, opts: SyncOptions, redis: string): Promise<CommandOutcome> {
  const { submitKernelSet } = await import('./submit.js');
  return submitKernelSet(set, {
    ...verifyFlags(opts),
    store: opts.store,
    redis,
    ...(opts.queue === undefined ? {} : { queue: opts.queue }),
    ...(opts.wait === undefined ? {} : { wait: opts.wait }),
    jobTimeout: opts.jobTimeout,
    attempts: opts.attempts,
  });
}

async function buildHere(set: LoadedKernelsFile, opts: SyncOptions): Promise<CommandOutcome> {
  const { buildKernelSet } = await import('./build.js');
  return buildKernelSet(set, {
    ...verifyFlags(opts),
    out: opts.store,
    concurrency: opts.concurrency,
    ...(opts.signingKey === undefined ? {} : { signingKey: opts.signingKey }),
    ...(opts.unlocked === undefined ? {} : { unlocked: opts.unlocked }),
    ...(opts.s3 === undefined ? {} : { s3: opts.s3 }),
    ...(opts.verifyConcurrency === undefined ? {} : { verifyConcurrency: opts.verifyConcurrency }),
  });
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/**
 * Follows the archive: builds what the crawl finds and the index lacks. Idempotent (a second
 * run finds nothing new); `--interval` repeats until SIGINT/SIGTERM, reporting each round, and a
 * failed round is reported without ending the loop. Exit: 0 nothing failed (or following stopped
 * by a signal between rounds), 1 a build failed, 2 bad input, 130 interrupted during a build.
 */
export async function syncCommand(opts: SyncOptions): Promise<number> {
  if (opts.redis === undefined) refuseUnlockedS3(opts.store, undefined, opts.unlocked);
  if (opts.mirror !== undefined && opts.distro.length > 1) {
    throw new KbuildError('E_USAGE', '--mirror names one archive: give it with a single --distro (kernels.yaml mirrors.<distro> for several)', { exitCode: 2 });
  }
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  if (opts.interval !== undefined) process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    for (let round = 1; ; round++) {
      const result = await syncRound(opts).catch((err: unknown) => {
        // Following survives a network outage or a bad round; bad input (exit 2) stops it.
        if (opts.interval === undefined || (err instanceof KbuildError && err.exitCode === 2)) throw err;
        const message = err instanceof Error ? err.message : String(err);
        process.stderr.write(`kbuild: sync round ${round} failed: ${message}\n`);
        return { exitCode: 1, report: { error: message }, text: '' };
      });
      const report = { round, at: new Date().toISOString(), ...result.report };
      if (opts.json === true) process.stdout.write(`${JSON.stringify(report, null, opts.interval === undefined ? 2 : undefined)}\n`);
      else process.stdout.write(result.text);
      if (result.exitCode === 130 || opts.interval === undefined) return result.exitCode;
      await sleep(opts.interval * 1000, stop.signal);
      if (stop.signal.aborted) return 0;
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}
