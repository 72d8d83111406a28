import type { ArtifactIndex, VerifyMode } from '@kbuild/loader';
import { firstLine, formatBytes } from './format.js';
import type { MatrixCell, VerifyPart } from './matrix.js';

/** Colour classes of the stylesheet: ok (green), fail (red), warn (amber), none (grey). */
export type Tone = 'ok' | 'fail' | 'warn' | 'none';

export interface PartView {
  readonly label: string;
  readonly tone: Tone;
  readonly text: string;
  readonly title: string;
  /** Anchor of the failure in the failures list, or '' */
  readonly href: string;
  readonly error: string;
}

export interface CellView {
  readonly status: string;
  readonly parts: readonly PartView[];
  readonly verify: readonly { label: string; tone: Tone; symbol: string; title: string; href: string }[];
  /** First lines of failed QEMU verifications, linked to the failures list. */
  readonly verifyErrors: readonly { text: string; href: string }[];
}

export const MODE_LABELS: Record<VerifyMode, string> = { 'non-core': 'nc', 'core-kernel-btf': 'k-btf', 'core-external-btf': 'x-btf' };
const SYMBOLS = { ok: '✓', failed: '✗', 'not-verifiable': '⊘', inconclusive: '?', 'not-run': '·' } as const;
const VERIFY_TONES = { ok: 'ok', failed: 'fail', 'not-verifiable': 'warn', inconclusive: 'warn', 'not-run': 'none' } as const;

export const failureAnchor = (i: number | undefined): string => (i === undefined ? '' : `#failure-${i + 1}`);

/** What one matrix cell shows; every string here is escaped by the template. */
export function cellView(cell: MatrixCell, index: ArtifactIndex): CellView {
  const failureLine = (i: number | undefined): string => {
    const f = i === undefined ? undefined : index.failures[i];
    return f === undefined ? '' : `${f.code}: ${firstLine(f.message)}`;
  };
  const nc = cell.nonCore;
  const nonCore: PartView = {
    label: 'non-CO-RE',
    tone: nc.state === 'built' ? 'ok' : nc.state === 'failed' ? 'fail' : 'none',
    text: nc.state === 'built' && nc.artifact !== undefined ? formatBytes(nc.artifact.size) : nc.state === 'failed' ? 'build failed' : '—',
    title: nc.artifact === undefined ? nc.state : `${nc.artifact.path} (${nc.artifact.size} bytes, ${nc.artifact.toolchain})`,
    href: failureAnchor(nc.failure),
    error: failureLine(nc.failure),
  };
  const c = cell.core;
  const coreText = {
    'kernel-btf': 'kernel BTF',
    'external-btf': c.btf === undefined ? '' : `${c.btf.kind === 'minimized' ? 'min' : 'full'} BTF ${formatBytes(c.btf.btf.size)}`,
    'no-btf': 'no BTF',
    failed: 'build failed',
    missing: '—',
  }[c.state];
  const btfTitle =
    c.btf === undefined
      ? ''
      : `; external BTF ${c.btf.btf.path} (${c.btf.kind}, ${c.btf.btf.size} of ${c.btf.source.size} bytes, relocations ${c.btf.relocationCheck.result}: ${c.btf.relocationCheck.relocations})`;
  const core: PartView = {
    label: 'CO-RE',
    tone: c.state === 'failed' ? 'fail' : c.state === 'missing' ? 'none' : c.state === 'no-btf' || c.btf?.relocationCheck.result === 'failed' ? 'warn' : 'ok',
    text: coreText,
    title: c.artifact === undefined ? c.state : `${c.artifact.path} (${c.artifact.size} bytes)${btfTitle}`,
    href: failureAnchor(c.failure),
    error: failureLine(c.failure),
  };
  const verifyErrors = cell.verify
    .filter((v) => v.state === 'failed')
    .map((v) => ({ text: `${MODE_LABELS[v.mode]}: ${failureLine(v.failure) || firstLine(v.entry?.verifierLog ?? v.entry?.detail ?? 'failed')}`, href: failureAnchor(v.failure) }));
  return { status: cell.status, parts: [nonCore, core], verify: cell.verify.map((v) => verifyChip(v, failureLine(v.failure))), verifyErrors };
}

function verifyChip(v: VerifyPart, error: string) {
  const e = v.entry;
  const facts = [
    e?.bootedRelease === undefined ? '' : `booted ${e.bootedRelease}`,
    e?.events === undefined ? '' : `${e.events} events`,
    e?.seconds === undefined ? '' : `${e.seconds.toFixed(1)}s`,
    e?.detail ?? '',
    error !== '' ? error : v.state === 'failed' && e?.verifierLog !== undefined ? firstLine(e.verifierLog, 400) : '',
  ].filter((s) => s !== '');
  return {
    label: MODE_LABELS[v.mode],
    tone: VERIFY_TONES[v.state],
    symbol: SYMBOLS[v.state],
    title: `QEMU ${v.mode}: ${v.state}${facts.length === 0 ? '' : ` — ${facts.join('; ')}`}`,
    href: failureAnchor(v.failure),
  };
}
