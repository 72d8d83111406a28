import type { S3Settings } from '@kbuild/loader/internal';
import { requireStoredIndex } from '../stored-index.js';
import { cacheRoot } from '../../cache/cache-dir.js';
import { loadKernelsFile } from '../../config/load-kernels-file.js';
import { compareWithQemu } from '../../core-check/agreement.js';
import { applyCoreCheck } from '../../core-check/apply-index.js';
import { crawledCheckKernels } from '../../core-check/check-scope.js';
import { runCoreCheck, type CheckKernel } from '../../core-check/run-check.js';
import { KbuildError } from '../../errors.js';
import type { Arch } from '../../kernel/identity.js';
import { updateIndex } from '../../runner/write-index.js';
import { loadSigningKey } from '../../sign/signing-key.js';
import { openStore } from '../../store/open-store.js';
import { kernelsOfIndex } from '../../verify/stage/plan-cases.js';
import { publishLockFor, refuseUnlockedS3 } from '../publish-lock-option.js';

export interface CheckCommandOptions {
  readonly store: string;
  readonly kernels?: string;
  readonly crawl?: string;
  readonly arch?: Arch[];
  readonly releaseFilter?: string;
  readonly concurrency?: number;
  readonly signingKey?: string;
  readonly redis?: string;
  readonly unlocked?: boolean;
  readonly json?: boolean;
  readonly s3?: S3Settings;
}

/**
 * Resolves every CO-RE object of a store's index against the full BTF of every
 * kernel in scope (the index's kernels, --kernels, or a crawl of a distro),
 * records compatible / incompatible / unknown per kernel in the index, and
 * compares each prediction with QEMU where the kernel was booted. Exit 0 when
 * nothing is incompatible and the predictor agrees with QEMU, 1 otherwise, 2 for bad input.
 */
export async function checkCommand(opts: CheckCommandOptions): Promise<number> {
  if (opts.kernels !== undefined && opts.crawl !== undefined) throw new KbuildError('E_USAGE', '--kernels and --crawl are exclusive', { exitCode: 2 });
  const loaded = opts.kernels === undefined ? undefined : await loadKernelsFile(opts.kernels);
  const signingKey = opts.signingKey === undefined ? undefined : await loadSigningKey(opts.signingKey);
  refuseUnlockedS3(opts.store, opts.redis, opts.unlocked);
  const store = await openStore(opts.store, opts.s3 === undefined ? {} : { s3: opts.s3 });
  const lock = publishLockFor(store.location, opts.redis, opts.unlocked);
  try {
    const { index, where } = await requireStoredIndex(store);
    if (!index.artifacts.some((a) => a.kind === 'core')) throw new KbuildError('E_NOTHING_TO_CHECK', `${where} lists no CO-RE object`, { exitCode: 2 });
    const kernels: CheckKernel[] = opts.crawl !== undefined
      ? await crawledCheckKernels(opts.crawl, opts.arch ?? ['x86_64'], opts.releaseFilter === undefined ? {} : { releaseFilter: opts.releaseFilter })
      : (loaded?.config.kernels ?? kernelsOfIndex(index.artifacts, index.kernelBtf)).map((k) => ({
        distro: k.distro, release: k.release, arch: k.arch,
        ...('distroVersion' in k && typeof k.distroVersion === 'string' ? { distroVersion: k.distroVersion } : {}),
      }));
    const started = performance.now();
    let done = 0;
    const run = await runCoreCheck({
      store,
      artifacts: index.artifacts,
      kernels,
      cacheDir: cacheRoot(),
      ...(loaded?.config.btf?.sources === undefined ? {} : { sources: loaded.config.btf.sources }),
      ...(loaded?.config.btf?.archive === undefined ? {} : { archive: loaded.config.btf.archive }),
      ...(loaded?.config.mirrors === undefined ? {} : { mirrors: loaded.config.mirrors }),
      ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
      // One line per kernel on stderr, also with --json (stdout keeps the JSON): an archive-wide check takes minutes.
      onKernel: (kernel, outcomes) => {
        done++;
        const counts = ['compatible', 'incompatible', 'unknown'].map((r) => `${outcomes.filter((o) => o.entry.result === r).length} ${r}`);
        process.stderr.write(`kbuild: checked ${kernel.distro} ${kernel.release} ${kernel.arch} (${done} of ${kernels.length}): ${counts.join(', ')}\n`);
      },
    });
    const written = await updateIndex(store, (stored) => applyCoreCheck(stored ?? index, run.outcomes), {
      ...(signingKey === undefined ? {} : { signingKey }),
      ...(lock === undefined ? {} : { lock }),
    });
    const agreement = compareWithQemu(written.index.artifacts);
    const disagreements = agreement.filter((a) => a.verdict === 'disagree');
    const count = (r: string): number => run.outcomes.filter((o) => o.entry.result === r).length;
    const summary = {
      store: store.location, kernels: kernels.length, checks: run.checks,
      compatible: count('compatible'), incompatible: count('incompatible'), unknown: count('unknown'),
      seconds: (performance.now() - started) / 1000, checkSeconds: run.checkSeconds,
      btfBytesPerCheck: run.checks === 0 ? 0 : Math.round(run.btfBytes / run.checks),
      comparedWithQemu: agreement.length, disagreements: disagreements.length,
    };
    if (opts.json === true) {
      process.stdout.write(`${JSON.stringify({ ...summary, results: run.outcomes, agreement }, null, 2)}\n`);
    } else {
      for (const o of run.outcomes.filter((x) => x.entry.result === 'incompatible')) {
        process.stdout.write(`incompatible ${o.path} on ${o.entry.kernel.distro} ${o.entry.kernel.release} ${o.entry.kernel.arch}: ${o.entry.detail ?? ''}\n`);
      }
      for (const d of disagreements) process.stdout.write(`predictor bug: ${d.path} on ${d.kernel}: ${d.detail}\n`);
      process.stdout.write(`${summary.checks} checks over ${summary.kernels} kernels: ${summary.compatible} compatible, ${summary.incompatible} incompatible, ${summary.unknown} unknown; ` +
        `${agreement.length} compared with QEMU, ${disagreements.length} disagreements\n`);
    }
    return summary.incompatible === 0 && disagreements.length === 0 ? 0 : 1;
  } finally {
    await store.close();
    await lock?.close();
  }
}
