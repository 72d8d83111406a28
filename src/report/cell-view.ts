import type { ArtifactIndex, VerifyMode } from '@kbuild/loader';
import { firstLine, formatBytes, shortSha, storeHref } from './format.js';
import type { LoadChoice } from './loadable.js';
import type { MatrixCell, VerifyPart } from './matrix.js';

/** Colour classes of the stylesheet: ok (green), fail (red), warn (amber), none (grey). */
export type Tone = 'ok' | 'fail' | 'warn' | 'none';

/** A stored file the cell links to (relative to the store folder the report sits in). */
export interface FileLink {
  readonly href: string;
  readonly size: string;
  /** The first 12 hex digits; the full sha256 is in the cell's details. */
  readonly short: string;
}

export interface PartView {
  readonly label: string;
  readonly tone: Tone;
  readonly text: string;
  readonly file?: FileLink;
  /** Anchor of the failure in the failures list, or '' */
  readonly href: string;
  readonly error: string;
}

export interface CellView {
  readonly status: string;
  readonly parts: readonly PartView[];
  readonly verify: readonly { label: string; tone: Tone; symbol: string; href: string }[];
  /** What the loader would pick on this kernel: nc, CO-RE, CO-RE+BTF or nothing. */
  readonly load: { readonly text: string; readonly tone: Tone };
  /** First lines of failed QEMU verifications, linked to the failures list. */
  readonly verifyErrors: readonly { text: string; href: string }[];
  /** Everything the cell abbreviates, in full, for its <details>: no fact lives only in a tooltip. */
  readonly details: readonly { label: string; text: string }[];
}

export const MODE_LABELS: Record<VerifyMode, string> = { 'non-core': 'nc', 'core-kernel-btf': 'k-btf', 'core-external-btf': 'x-btf' };
const LOAD_LABELS = { 'non-core': 'nc', core: 'CO-RE', 'core+external-btf': 'CO-RE+BTF' } as const;
const SYMBOLS = { ok: '✓', failed: '✗', 'not-verifiable': '⊘', inconclusive: '?', 'not-run': '·' } as const;
const VERIFY_TONES = { ok: 'ok', failed: 'fail', 'not-verifiable': 'warn', inconclusive: 'warn', 'not-run': 'none' } as const;

export const failureAnchor = (i: number | undefined): string => (i === undefined ? '' : `#failure-${i + 1}`);

const fileLink = (blob: { path: string; size: number; sha256: string }): FileLink => ({ href: storeHref(blob.path), size: formatBytes(blob.size), short: shortSha(blob.sha256) });
const fileFacts = (blob: { path: string; size: number; sha256: string }): string => `${blob.path} · ${blob.size} bytes · sha256 ${blob.sha256}`;

/** What one matrix cell shows; every string here is escaped by the template. */
export function cellView(cell: MatrixCell, index: ArtifactIndex, load: LoadChoice): CellView {
  const failureLine = (i: number | undefined): string => {
    const f = i === undefined ? undefined : index.failures[i];
    return f === undefined ? '' : `${f.code}: ${firstLine(f.message)}`;
  };
  const details: { label: string; text: string }[] = [];
  const nc = cell.nonCore;
  const nonCore: PartView = {
    label: 'non-CO-RE',
    tone: nc.state === 'built' ? 'ok' : nc.state === 'failed' ? 'fail' : 'none',
    text: nc.state === 'failed' ? 'build failed' : nc.state === 'missing' ? '—' : '',
    ...(nc.artifact === undefined ? {} : { file: fileLink(nc.artifact) }),
    href: failureAnchor(nc.failure),
    error: failureLine(nc.failure),
  };
  if (nc.artifact !== undefined) details.push({ label: 'non-CO-RE', text: `${fileFacts(nc.artifact)} · ${nc.artifact.toolchain}` });
  const c = cell.core;
  const core: PartView = {
    label: 'CO-RE',
    tone: c.state === 'failed' ? 'fail' : c.state === 'missing' ? 'none' : c.state === 'no-btf' || c.btf?.relocationCheck.result === 'failed' ? 'warn' : 'ok',
    text: { 'kernel-btf': '', 'external-btf': '', 'no-btf': 'no BTF', failed: 'build failed', missing: '—' }[c.state],
    ...(c.artifact === undefined ? {} : { file: fileLink(c.artifact) }),
    href: failureAnchor(c.failure),
    error: failureLine(c.failure),
  };
  if (c.artifact !== undefined) {
    details.push({ label: 'CO-RE', text: `${fileFacts(c.artifact)} · vmlinux.h from ${c.artifact.kernel.distro} ${c.artifact.kernel.release} · ${c.state === 'kernel-btf' ? 'the kernel has BTF' : c.state === 'no-btf' ? 'the kernel has no BTF and the index lists none for it' : 'external BTF'}` });
  }
  const parts = [nonCore, core];
  if (c.btf !== undefined) {
    const b = c.btf;
    parts.push({ label: b.kind === 'minimized' ? 'min BTF' : 'full BTF', tone: b.relocationCheck.result === 'ok' ? 'ok' : 'warn', text: '', file: fileLink(b.btf), href: '', error: '' });
    details.push({
      label: `${b.kind} BTF`,
      text: `${fileFacts(b.btf)} · cut from ${b.source.size} bytes (${b.source.kind}, sha256 ${b.source.sha256}) · relocations ${b.relocationCheck.result}: ${b.relocationCheck.relocations}${b.relocationCheck.detail === undefined ? '' : ` (${firstLine(b.relocationCheck.detail, 400)})`}`,
    });
  }
  for (const v of cell.verify) details.push({ label: `QEMU ${MODE_LABELS[v.mode]}`, text: verifyFacts(v, failureLine(v.failure)) });
  const verifyErrors = cell.verify
    .filter((v) => v.state === 'failed')
    .map((v) => ({ text: `${MODE_LABELS[v.mode]}: ${failureLine(v.failure) || firstLine(v.entry?.verifierLog ?? v.entry?.detail ?? 'failed')}`, href: failureAnchor(v.failure) }));
  return {
    status: cell.status,
    parts,
    verify: cell.verify.map((v) => ({ label: MODE_LABELS[v.mode], tone: VERIFY_TONES[v.state], symbol: SYMBOLS[v.state], href: failureAnchor(v.failure) })),
    load: load === undefined ? { text: 'nothing', tone: 'fail' } : { text: LOAD_LABELS[load], tone: 'ok' },
    verifyErrors,
    details,
  };
}

function verifyFacts(v: VerifyPart, error: string): string {
  const e = v.entry;
  const facts = [
    e?.bootedRelease === undefined ? '' : `booted ${e.bootedRelease}`,
    e?.events === undefined ? '' : `${e.events} events`,
    e?.seconds === undefined ? '' : `${e.seconds.toFixed(1)}s`,
    e?.detail ?? '',
    error !== '' ? error : v.state === 'failed' && e?.verifierLog !== undefined ? firstLine(e.verifierLog, 400) : '',
  ].filter((s) => s !== '');
  return `${v.mode}: ${v.state}${facts.length === 0 ? '' : ` — ${facts.join('; ')}`}`;
}
