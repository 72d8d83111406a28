import { createHash } from 'node:crypto';
import type { ArtifactIndex, IndexKernel } from '@kbuild/loader';
import type { IndexTrustResult } from '@kbuild/loader/internal';
import { renderHtmlTemplate, templateText } from '../template/render.js';
import { cellView, failureAnchor, MODE_LABELS } from './cell-view.js';
import { coreCoverage } from './core-coverage.js';
import { clip, formatBytes, formatPercent, scriptSafeJson } from './format.js';
import { loadability, loadKey, type UnloadableKernel } from './loadable.js';
import { buildMatrix, type MatrixRow } from './matrix.js';
import { summarizeIndex, type ReportSummary } from './summary.js';

export interface ReportOptions {
  /** Where the index was read from, shown in the header. */
  readonly source?: string;
  /** Whether its signature was checked; undefined: not checked. */
  readonly trust?: IndexTrustResult;
}

/** The element whose JSON (summary and provenance) machines can read back from the page. */
export const REPORT_DATA_ID = 'kbuild-report-data';
const MAX_FAILURE_TEXT = 16 * 1024;

/**
 * The build matrix as one self-contained HTML page: inline CSS and script, no
 * external request. A content security policy admits only the page's own
 * script (by hash), so even a string that escaped escaping could not run.
 */
export async function renderReport(index: ArtifactIndex, options: ReportOptions = {}): Promise<string> {
  const summary = summarizeIndex(index);
  const matrix = buildMatrix(index);
  const script = await templateText('report-filter.js');
  const scriptHash = createHash('sha256').update(script).digest('base64');
  const groups = groupByDistro(matrix.rows);
  const load = loadability(index, matrix);
  return renderHtmlTemplate('report.html', {
    source: options.source ?? '',
    trust: trustText(options.trust),
    trustTone: options.trust === undefined ? 'none' : options.trust.signed ? 'ok' : 'warn',
    generatedAt: index.generatedAt,
    generator: index.generator,
    schemaVersion: index.schemaVersion,
    cards: cards(summary),
    unloadable: headline(load.unloadable, matrix.probes.length),
    probes: matrix.probes,
    kernelCount: matrix.rows.length,
    distros: groups.map((g) => g.distro),
    arches: [...new Set(matrix.rows.map((r) => r.kernel.arch))].sort(),
    columns: matrix.probes.length + 2,
    groups: groups.map((g) => ({
      distro: g.distro,
      rows: g.rows.map((row) => {
        const cells = row.cells.map((cell) => cellView(cell, index, load.choices.get(loadKey(row.kernel, cell.probe))));
        return {
          distro: row.kernel.distro,
          release: row.kernel.release,
          arch: row.kernel.arch,
          kernelTitle: kernelTitle(row.kernel),
          statuses: [...new Set(cells.map((c) => c.status))].join(' '),
          cells,
        };
      }),
    })),
    core: coreRows(index),
    coverage: coverageOf(index),
    btf: btfRows(index),
    btfTotal: {
      full: formatBytes(summary.btf.fullBytes),
      served: formatBytes(summary.btf.servedBytes),
      saved: formatPercent(summary.btf.savedRatio),
    },
    failures: index.failures.map((f, i) => ({
      id: failureAnchor(i).slice(1),
      number: i + 1,
      probe: f.probe,
      kind: f.kind,
      stage: f.stage ?? 'build',
      mode: f.mode === undefined || f.mode === f.kind ? '' : f.mode,
      kernel: `${f.kernel.distro} ${f.kernel.release} ${f.kernel.arch}`,
      code: f.code,
      message: clip(f.message, MAX_FAILURE_TEXT),
    })),
    modes: Object.entries(MODE_LABELS).map(([mode, label]) => ({ mode, label })),
    dataId: REPORT_DATA_ID,
    data: scriptSafeJson({ summary, source: options.source ?? null, generatedAt: index.generatedAt, generator: index.generator }),
    script,
    scriptHash,
  });
}

function trustText(trust: IndexTrustResult | undefined): string {
  if (trust === undefined) return 'signature not checked';
  return trust.signed ? `signed by key ${trust.keyId}` : 'NOT signed';
}

function cards(s: ReportSummary) {
  const card = (key: string, label: string, value: number | string, detail: string, tone: string) => ({ key, label, value: String(value), detail, tone });
  return [
    card('kernels', 'Kernels', s.kernels, `${s.probes} probe${s.probes === 1 ? '' : 's'}`, 'none'),
    card('artifacts', 'Artifacts', s.artifacts, `${s.nonCore} non-CO-RE, ${s.core} CO-RE`, 'ok'),
    card('failures', 'Failures', s.failures, `${s.buildFailures} build, ${s.verifyFailures} verify`, s.failures === 0 ? 'ok' : 'fail'),
    card('verified-ok', 'QEMU ok', s.verified.ok, 'verifications passed', s.verified.ok === 0 ? 'none' : 'ok'),
    card('verified-failed', 'QEMU failed', s.verified.failed, `${s.verified.notVerifiable} not verifiable${s.verified.inconclusive === 0 ? '' : `, ${s.verified.inconclusive} inconclusive`}`, s.verified.failed === 0 ? 'none' : 'fail'),
    card(
      'core-check',
      'CO-RE incompatible',
      s.coreCheck.incompatible + s.coreCheck.compatible + s.coreCheck.unknown === 0 ? '—' : s.coreCheck.incompatible,
      s.coreCheck.incompatible + s.coreCheck.compatible + s.coreCheck.unknown === 0
        ? 'no offline check (kbuild check)'
        : `${s.coreCheck.compatible} compatible, ${s.coreCheck.unknown} unknown; ${s.coreCheck.disagreements} of ${s.coreCheck.comparedWithQemu} contradicted by QEMU`,
      s.coreCheck.disagreements > 0 ? 'fail' : s.coreCheck.incompatible > 0 ? 'warn' : s.coreCheck.compatible > 0 ? 'ok' : 'none',
    ),
    card(
      'btf-saved',
      'BTF saved',
      s.btf.kernels === 0 ? '—' : formatPercent(s.btf.savedRatio),
      s.btf.kernels === 0 ? 'no kernel needs external BTF' : `${formatBytes(s.btf.servedBytes)} instead of ${formatBytes(s.btf.fullBytes)}`,
      s.btf.kernels === 0 ? 'none' : 'ok',
    ),
  ];
}

/** Kernels left with nothing to load for some probe; the list starts folded when it is long. */
function headline(unloadable: readonly UnloadableKernel[], probeCount: number) {
  const n = unloadable.length;
  return {
    count: n,
    tone: n === 0 ? 'ok' : 'fail',
    text: n === 0 ? 'Every kernel has a loadable artifact for every probe' : `${n} kernel${n === 1 ? '' : 's'} with no loadable artifact for some probe`,
    open: n <= 20,
    kernels: unloadable.map((u) => ({
      kernel: `${u.kernel.distro} ${u.kernel.release} ${u.kernel.arch}`,
      probes: u.probes.length === probeCount && probeCount > 1 ? `all ${probeCount} probes` : u.probes.join(', '),
      reason: `${u.probes[0] ?? ''}: ${clip(u.reasons[0] ?? '', 240)}${u.probes.length > 1 ? ` (and ${u.probes.length - 1} more)` : ''}`,
    })),
  };
}

function groupByDistro(rows: readonly MatrixRow[]): { distro: string; rows: MatrixRow[] }[] {
  const groups = new Map<string, MatrixRow[]>();
  for (const row of rows) groups.set(row.kernel.distro, [...(groups.get(row.kernel.distro) ?? []), row]);
  return [...groups.entries()].map(([distro, list]) => ({ distro, rows: list }));
}

function kernelTitle(kernel: IndexKernel): string {
  return [kernel.version === undefined ? '' : `version ${kernel.version}`, kernel.packageVersion === undefined ? '' : `package ${kernel.packageVersion}`]
    .filter((s) => s !== '')
    .join(', ');
}

function coreRows(index: ArtifactIndex) {
  const built = index.artifacts
    .filter((a) => a.kind === 'core')
    .map((a) => {
      const qemu = a.verification.filter((v) => v.method === 'qemu');
      return {
        probe: a.probe,
        arch: a.arch,
        tone: 'ok',
        state: 'built',
        size: formatBytes(a.size),
        btfFrom: `${a.kernel.distro} ${a.kernel.release}`,
        toolchain: a.toolchain,
        qemu: qemu.length === 0 ? 'not run' : (['ok', 'failed', 'not-verifiable', 'inconclusive'] as const).flatMap((r) => { const n = qemu.filter((v) => v.result === r).length; return r === 'inconclusive' && n === 0 ? [] : [`${n} ${r.replace('-', ' ')}`]; }).join(', '),
        href: '',
      };
    });
  const failed = index.failures.flatMap((f, i) =>
    f.kind === 'core' && f.stage !== 'verify'
      ? [{ probe: f.probe, arch: f.arch, tone: 'fail', state: 'build failed', size: '—', btfFrom: `${f.kernel.distro} ${f.kernel.release}`, toolchain: f.code, qemu: '', href: failureAnchor(i) }]
      : [],
  );
  return [...built, ...failed].sort((a, b) => a.probe.localeCompare(b.probe) || a.arch.localeCompare(b.arch));
}

/** The coverage map's view, with the header the template needs. */
function coverageOf(index: ArtifactIndex) {
  const view = coreCoverage(index);
  return { ...view, kernelCount: view.rows.length, columns: view.probes.length + 2 };
}

function btfRows(index: ArtifactIndex) {
  return index.kernelBtf.flatMap((entry) =>
    entry.objects.map((o) => ({
      kernel: `${entry.kernel.distro} ${entry.kernel.release} ${entry.kernel.arch}`,
      probe: o.probe,
      kind: o.kind,
      source: o.source.kind,
      full: formatBytes(o.source.size),
      served: formatBytes(o.btf.size),
      saved: o.source.size === 0 ? '—' : formatPercent(1 - o.btf.size / o.source.size),
      relocations: `${o.relocationCheck.result} (${o.relocationCheck.relocations})`,
      tone: o.relocationCheck.result === 'ok' ? 'ok' : 'fail',
    })),
  );
}
