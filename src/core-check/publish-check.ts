import type { ArtifactIndex } from '@kbuild/loader';
import type { Arch } from '../kernel/identity.js';
import type { ArtifactStore } from '../store/types.js';
import { compareWithQemu } from './agreement.js';
import { applyCoreCheck } from './apply-index.js';
import { kernelsInScope, type CoreCheckRequest } from './check-scope.js';
import { runCoreCheck } from './run-check.js';

/** What a publish-time check found, for `build --json` and the farm's publish result. */
export interface PublishCheckSummary {
  readonly scope: CoreCheckRequest['scope'];
  readonly kernels: number;
  readonly checks: number;
  readonly compatible: number;
  readonly incompatible: number;
  readonly unknown: number;
  readonly comparedWithQemu: number;
  readonly disagreements: number;
  readonly seconds: number;
  /** One line per incompatible object and kernel, and per QEMU contradiction (a predictor bug). */
  readonly lines: readonly string[];
}

/**
 * `build --core-check` and the farm's publish step: the offline CO-RE check of
 * the index about to be published (its CO-RE objects are in the store), laid
 * over it so the published index carries the predictions, and compared with
 * the QEMU results it already holds. Kernel BTFs come from the cache after
 * the first run.
 */
export async function checkBeforePublish(
  index: ArtifactIndex,
  request: CoreCheckRequest,
  options: { store: ArtifactStore; cacheDir: string; signal?: AbortSignal; concurrency?: number; note?: (line: string) => void },
): Promise<{ index: ArtifactIndex; summary: PublishCheckSummary }> {
  const started = performance.now();
  const note = options.note ?? (() => undefined);
  const arches = [...new Set(index.artifacts.filter((a) => a.kind === 'core').map((a) => a.arch as Arch))];
  const kernels = arches.length === 0 ? [] : await kernelsInScope(request, arches, note);
  const run = await runCoreCheck({
    store: options.store,
    artifacts: index.artifacts,
    kernels,
    cacheDir: options.cacheDir,
    ...(request.sources === undefined ? {} : { sources: request.sources }),
    ...(request.archive === undefined ? {} : { archive: request.archive }),
    ...(request.mirrors === undefined ? {} : { mirrors: request.mirrors }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const checked = applyCoreCheck(index, run.outcomes);
  const agreement = compareWithQemu(checked.artifacts);
  const disagreements = agreement.filter((a) => a.verdict === 'disagree');
  const count = (r: string): number => run.outcomes.filter((o) => o.entry.result === r).length;
  const lines = [
    ...run.outcomes.filter((o) => o.entry.result === 'incompatible').map((o) => `incompatible ${o.path} on ${o.entry.kernel.distro} ${o.entry.kernel.release} ${o.entry.kernel.arch}: ${o.entry.detail ?? ''}`),
    ...disagreements.map((d) => `predictor bug: ${d.path} on ${d.kernel}: ${d.detail}`),
  ];
  return {
    index: checked,
    summary: {
      scope: request.scope, kernels: kernels.length, checks: run.checks,
      compatible: count('compatible'), incompatible: count('incompatible'), unknown: count('unknown'),
      comparedWithQemu: agreement.length, disagreements: disagreements.length,
      seconds: (performance.now() - started) / 1000, lines,
    },
  };
}

export function publishCheckText(s: PublishCheckSummary): string {
  return `${s.lines.map((l) => `${l}\n`).join('')}CO-RE check (${s.scope}): ${s.checks} checks over ${s.kernels} kernels: ${s.compatible} compatible, ${s.incompatible} incompatible, ${s.unknown} unknown; ` +
    `${s.comparedWithQemu} compared with QEMU, ${s.disagreements} disagreements (${s.seconds.toFixed(1)}s)\n`;
}
