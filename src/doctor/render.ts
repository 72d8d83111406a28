import type { CheckResult, CheckStatus } from './types.js';

const LABEL: Record<CheckStatus, string> = { ok: 'ok', warn: 'warn', missing: 'MISSING', skipped: 'skipped' };

export function summaryLine(results: readonly CheckResult[], purposes: readonly string[]): string {
  const missing = results.filter((r) => r.status === 'missing').length;
  const warnings = results.filter((r) => r.status === 'warn').length;
  const verdict = missing === 0 ? 'everything required is present' : `${missing} required check${missing === 1 ? '' : 's'} failed`;
  return `kbuild doctor (for ${purposes.join(', ')}): ${verdict}${warnings === 0 ? '' : `, ${warnings} warning${warnings === 1 ? '' : 's'}`}`;
}

/** For a terminal: aligned columns, the fix under each problem. */
export function renderTable(results: readonly CheckResult[], color: boolean): string {
  const paint = (status: CheckStatus, text: string): string => {
    if (!color) return text;
    const code = status === 'ok' ? 32 : status === 'warn' ? 33 : status === 'missing' ? 31 : 90;
    return `\u001b[${code}m${text}\u001b[0m`;
  };
  const w1 = Math.max(...results.map((r) => LABEL[r.status].length), 'STATUS'.length);
  const w2 = Math.max(...results.map((r) => r.title.length), 'CHECK'.length);
  const lines = [`${'STATUS'.padEnd(w1)}  ${'CHECK'.padEnd(w2)}  DETAIL`];
  for (const r of results) {
    lines.push(`${paint(r.status, LABEL[r.status].padEnd(w1))}  ${r.title.padEnd(w2)}  ${r.detail}`);
    if (r.fix !== undefined && r.status !== 'ok') lines.push(`${' '.repeat(w1 + w2 + 4)}fix: ${r.fix}`);
  }
  return `${lines.join('\n')}\n`;
}

/** For logs and pipes: one line per check, greppable by status and id. */
export function renderLines(results: readonly CheckResult[]): string {
  return results
    .map((r) => `${r.status} ${r.id}: ${r.detail}${r.fix !== undefined && r.status !== 'ok' ? ` (fix: ${r.fix})` : ''}`)
    .join('\n')
    .concat('\n');
}
