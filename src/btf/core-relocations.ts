import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KbuildError } from '../errors.js';
import { ExecError, run } from '../exec/exec.js';

/**
 * The CO-RE relocations libbpf computes for an object against one BTF. libbpf
 * logs every relocation it resolves ("relo #N: matching candidate #K <kind>
 * [type id] spec (access @ offset)"); `bpftool -d gen min_core_btf` runs
 * that same resolution (bpf_core_calc_relo_insn) offline, for any arch and
 * without loading anything, so its debug log is the relocation result.
 * Type ids and raw member indexes differ between two BTFs of one kernel and
 * are dropped; what must agree is the access path (by name) and the offsets
 * the program gets patched with.
 */

export interface CoreRelocation {
  /** Program (section) and relocation number, e.g. "tracepoint/x#3". */
  readonly id: string;
  /** The object's own (local) spec. */
  readonly local: string;
  /** Every target candidate that matched, type ids removed; empty when none matched. */
  readonly matches: readonly string[];
}

const RELO_LINE = /^libbpf: prog '([^']+)': relo #([0-9]+): (.*)$/;
const MATCHING = /^matching candidate #[0-9]+ (.*)$/;
const TYPE_ID = /\[[0-9]+\] /g;
/** Raw member indexes ("0:131") depend on how many members a BTF keeps; names and offsets do not. */
const RAW_ACCESS = /\((?:[0-9]+:)*[0-9]+ @ offset/g;
const normalize = (spec: string): string => spec.replace(TYPE_ID, '').replace(RAW_ACCESS, '(@ offset');

/** Each relocation line of libbpf's debug log: program (section), relocation number, and the rest of the line. */
export function* relocationLines(log: string): Generator<{ section: string; index: number; text: string }> {
  for (const line of log.split('\n')) {
    const m = RELO_LINE.exec(line.trim());
    if (m !== null) yield { section: m[1] ?? '', index: Number(m[2]), text: m[3] ?? '' };
  }
}

export function parseRelocationLog(log: string): CoreRelocation[] {
  const relos = new Map<string, { local: string; matches: string[] }>();
  for (const { section, index, text } of relocationLines(log)) {
    const id = `${section}#${index}`;
    const relo = relos.get(id) ?? { local: '', matches: [] };
    relos.set(id, relo);
    const match = MATCHING.exec(text);
    if (match !== null) relo.matches.push(normalize(match[1] ?? ''));
    else if (!text.startsWith('non-matching') && !/^(candidate|target candidate|failed|unexpected)/.test(text) && relo.local === '') {
      relo.local = normalize(text);
    }
  }
  return [...relos.entries()].map(([id, r]) => ({ id, local: r.local, matches: r.matches }));
}

/**
 * libbpf's debug log of resolving `objects` against `btf` (`bpftool -d gen
 * min_core_btf`, into a scratch file removed afterwards); `error` is bpftool's
 * failure, whose output is the log too: callers decide what a failure means.
 */
export async function minCoreBtfLog(btf: string, objects: readonly string[]): Promise<{ log: string; error?: ExecError }> {
  const dir = await mkdtemp(join(tmpdir(), 'kbuild-relo-'));
  try {
    const { stdout, stderr } = await run('bpftool', ['-d', 'gen', 'min_core_btf', btf, join(dir, 'out.btf'), ...objects], { timeoutMs: 120_000 });
    return { log: `${stdout}\n${stderr}` };
  } catch (err) {
    if (err instanceof ExecError) return { log: `${err.stdout}\n${err.stderr}`, error: err };
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs libbpf's CO-RE resolution of `objects` against `btf` and returns what it computed. */
export async function coreRelocations(btf: string, objects: readonly string[]): Promise<CoreRelocation[]> {
  const { log, error } = await minCoreBtfLog(btf, objects);
  if (error !== undefined) {
    const why = error.stderr.split('\n').filter((l) => !l.includes('relo #')).slice(-3).join(' ').trim();
    throw new KbuildError('E_BTF_RELO', `libbpf could not resolve the CO-RE relocations of ${objects.join(', ')} against ${btf}: ${why}`, { cause: error });
  }
  return parseRelocationLog(log);
}

export interface RelocationComparison {
  readonly result: 'ok' | 'failed';
  readonly relocations: number;
  /** The first differences, when failed. */
  readonly detail?: string;
}

/** Same relocations, same candidates, same offsets: what the program gets patched with is identical. */
export function compareRelocations(reference: readonly CoreRelocation[], candidate: readonly CoreRelocation[]): RelocationComparison {
  const other = new Map(candidate.map((r) => [r.id, r]));
  const problems: string[] = [];
  for (const r of reference) {
    const c = other.get(r.id);
    if (c === undefined) problems.push(`${r.id}: missing`);
    else if (r.local !== c.local || r.matches.join('|') !== c.matches.join('|')) {
      problems.push(`${r.id}: ${r.matches.join(', ') || 'no match'} vs ${c.matches.join(', ') || 'no match'}`);
    }
    other.delete(r.id);
  }
  for (const id of other.keys()) problems.push(`${id}: not in the reference`);
  if (reference.length === 0) problems.push('no CO-RE relocation found in the reference log');
  if (problems.length === 0) return { result: 'ok', relocations: reference.length };
  return { result: 'failed', relocations: reference.length, detail: problems.slice(0, 5).join('; ').slice(0, 4000) };
}
