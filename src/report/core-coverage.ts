import type { ArtifactIndex, IndexArtifact, IndexCoreCheck, IndexKernel } from '@kbuild/loader';
import { compareWithQemu, type Agreement } from '../core-check/agreement.js';
import type { Tone } from './cell-view.js';
import { firstLine } from './format.js';
import { compareKernels, kernelKey } from './kernels.js';

/**
 * The offline CO-RE check as a coverage map: every kernel some CO-RE object
 * was checked against (also kernels with no build, from an archive crawl) ×
 * the index's CO-RE objects (one column per probe; a row uses its arch's
 * object). Only entries about the artifact's current bytes count. A cell
 * whose prediction QEMU contradicted on that kernel is flagged: a predictor bug.
 */

export type CoverageResult = IndexCoreCheck['result'] | 'not-checked';

export interface CoverageCellView {
  readonly result: CoverageResult;
  readonly tone: Tone;
  readonly symbol: string;
  /** Visible in the cell: the first failing type and field, or why the result is unknown. */
  readonly headline: string;
  /** The `details` fold: every failing relocation, the BTF checked against, the QEMU comparison. */
  readonly details: readonly string[];
  /** Set when QEMU on this kernel contradicts the prediction. */
  readonly disagreement: string;
}

export interface CoverageRowView {
  readonly distro: string;
  readonly release: string;
  readonly arch: string;
  readonly results: string;
  readonly cells: readonly CoverageCellView[];
}

export interface CoverageView {
  readonly probes: readonly string[];
  readonly rows: readonly CoverageRowView[];
  readonly counts: { readonly compatible: number; readonly incompatible: number; readonly unknown: number; readonly comparedWithQemu: number; readonly disagreements: number };
  readonly disagreements: readonly { readonly probe: string; readonly kernel: string; readonly detail: string }[];
}

const SYMBOLS = { compatible: '✓', incompatible: '✗', unknown: '?', 'not-checked': '·' } as const;
const TONES = { compatible: 'ok', incompatible: 'fail', unknown: 'warn', 'not-checked': 'none' } as const;

const slot = (probe: string, kernel: Pick<IndexKernel, 'distro' | 'release' | 'arch'>): string => `${probe}\0${kernelKey(kernel)}`;

/** Current entries only: an entry about other bytes than the artifact's is stale. */
function currentChecks(artifacts: readonly IndexArtifact[]): { artifact: IndexArtifact; check: IndexCoreCheck }[] {
  return artifacts.filter((a) => a.kind === 'core').flatMap((artifact) => (artifact.coreCheck ?? []).filter((c) => c.coreSha256 === artifact.sha256).map((check) => ({ artifact, check })));
}

export function coreCoverage(index: ArtifactIndex): CoverageView {
  const checks = currentChecks(index.artifacts);
  const probes = [...new Set(index.artifacts.filter((a) => a.kind === 'core').map((a) => a.probe))].sort();
  const kernels = new Map<string, IndexKernel>();
  const bySlot = new Map<string, IndexCoreCheck>();
  for (const { artifact, check } of checks) {
    if (!kernels.has(kernelKey(check.kernel))) kernels.set(kernelKey(check.kernel), check.kernel);
    bySlot.set(slot(artifact.probe, check.kernel), check);
  }
  const agreement = compareWithQemu(index.artifacts);
  const bySlotQemu = new Map<string, Agreement[]>();
  for (const a of agreement) bySlotQemu.set(slot(a.probe, a.target), [...(bySlotQemu.get(slot(a.probe, a.target)) ?? []), a]);
  const disagreements = agreement.filter((a) => a.verdict === 'disagree');
  const rows = [...kernels.values()].sort(compareKernels).map((kernel): CoverageRowView => {
    const cells = probes.map((probe) => cellOf(bySlot.get(slot(probe, kernel)), bySlotQemu.get(slot(probe, kernel)) ?? []));
    return { distro: kernel.distro, release: kernel.release, arch: kernel.arch, results: [...new Set(cells.map((c) => c.result))].join(' '), cells };
  });
  const count = (r: CoverageResult): number => checks.filter((c) => c.check.result === r).length;
  return {
    probes,
    rows,
    counts: { compatible: count('compatible'), incompatible: count('incompatible'), unknown: count('unknown'), comparedWithQemu: agreement.length, disagreements: disagreements.length },
    disagreements: disagreements.map((d) => ({ probe: d.probe, kernel: d.kernel, detail: d.detail })),
  };
}

function cellOf(check: IndexCoreCheck | undefined, qemu: readonly Agreement[]): CoverageCellView {
  if (check === undefined) return { result: 'not-checked', tone: 'none', symbol: SYMBOLS['not-checked'], headline: '', details: [], disagreement: '' };
  const failures = check.failures ?? [];
  const first = failures[0];
  const headline = check.result === 'incompatible'
    ? first === undefined ? firstLine(check.detail ?? 'incompatible', 80) : `${first.type}${first.field === '' ? '' : `.${first.field}`}`
    : check.result === 'unknown' ? 'no BTF' : '';
  const details = [
    ...failures.map((f) => `relocation ${f.relocation} (${f.kind}): ${f.type}${f.field === '' ? '' : ` field ${f.field}`} not found`),
    check.relocations === undefined ? '' : `${check.relocations} relocations${check.guarded === undefined ? '' : `, ${check.guarded} unresolved but guarded (unreachable on this kernel)`}`,
    check.btfSource === undefined ? '' : `BTF from ${check.btfSource}${check.btfSha256 === undefined ? '' : `, sha256 ${check.btfSha256}`}`,
    check.detail === undefined ? '' : firstLine(check.detail, 600),
    ...qemu.map((a) => `QEMU ${a.mode}: ${a.qemu} — ${a.verdict === 'disagree' ? 'DISAGREES (predictor bug)' : a.verdict === 'other-failure' ? 'failed for another reason than CO-RE' : 'agrees'}`),
  ].filter((s) => s !== '');
  const wrong = qemu.find((a) => a.verdict === 'disagree');
  return {
    result: check.result,
    tone: TONES[check.result],
    symbol: SYMBOLS[check.result],
    headline,
    details,
    disagreement: wrong === undefined ? '' : `QEMU ${wrong.qemu === 'ok' ? 'loaded it' : 'failed'} (${wrong.mode})`,
  };
}
