import { readFile, stat } from 'node:fs/promises';
import { KbuildError } from '../errors.js';
import { minCoreBtfLog } from '../btf/core-relocations.js';
import { EXISTS_KINDS, parseBpfObject, type BpfSection } from './bpf-object.js';
import { reachableInstructions } from './reachability.js';
import { parseRelocations, type LoggedRelocation } from './relo-log.js';

/**
 * Predicts whether a CO-RE object loads on a kernel, from that kernel's full
 * BTF alone: libbpf's own relocation resolution (run offline by `bpftool -d
 * gen min_core_btf`) says which relocations find no target; a relocation
 * that finds none is harmless for the exists kinds (they become 0) and for an
 * instruction the program cannot reach once those 0/1 answers are patched in
 * (see reachability.ts); any other is the verifier's "invalid func
 * unknown#195896080" at load time. Helpers, program types, attach points and
 * the verifier's own limits are not predicted.
 */

export interface CoreObject {
  readonly path: string;
  readonly sections: readonly BpfSection[];
}

export interface UnresolvedRelocation {
  /** "<section>#<n>", libbpf's numbering. */
  readonly relocation: string;
  readonly kind: string;
  readonly type: string;
  readonly field: string;
  /** The instruction is unreachable on this kernel (behind an exists check that is 0 here). */
  readonly guarded: boolean;
}

export interface CoreCheckResult {
  readonly result: 'compatible' | 'incompatible';
  readonly relocations: number;
  /** Unresolved non-exists relocations, guarded or not. */
  readonly unresolved: readonly UnresolvedRelocation[];
  readonly detail: string;
  readonly btfBytes: number;
}

export async function loadCoreObject(path: string): Promise<CoreObject> {
  return { path, sections: parseBpfObject(await readFile(path), path) };
}

export async function checkCoreObject(object: CoreObject, btf: string): Promise<CoreCheckResult> {
  const btfBytes = (await stat(btf)).size;
  const { log, error } = await minCoreBtfLog(btf, [object.path]);
  if (error?.timedOut === true) throw error;
  const failed = error !== undefined;
  const parsed = parseRelocations(log);
  if (failed) {
    if (parsed.errors.length === 0) {
      const tail = log.trim().split('\n').slice(-3).join(' ');
      throw new KbuildError('E_CORE_CHECK', `bpftool could not read ${object.path} or ${btf}: ${tail}`);
    }
    const detail = `libbpf fails the load: ${parsed.errors.slice(0, 3).join('; ')}`.slice(0, 4000);
    return { result: 'incompatible', relocations: parsed.relocations.length, unresolved: [], detail, btfBytes };
  }
  return judge(object, parsed.relocations, btfBytes);
}

function judge(object: CoreObject, relocations: readonly LoggedRelocation[], btfBytes: number): CoreCheckResult {
  const unresolved: UnresolvedRelocation[] = [];
  const notes: string[] = [];
  const bySection = new Map<string, LoggedRelocation[]>();
  for (const r of relocations) bySection.set(r.section, [...(bySection.get(r.section) ?? []), r]);
  for (const [name, relos] of bySection) {
    const poisoned = relos.filter((r) => !r.matched && !EXISTS_KINDS.has(r.kind));
    if (poisoned.length === 0) continue;
    const reachable = reachableIn(object.sections.find((s) => s.name === name), relos);
    if (reachable === undefined) notes.push(`${name}: its .BTF.ext records do not match libbpf's log, every unresolved relocation counts as reachable`);
    for (const r of poisoned) {
      const insn = object.sections.find((s) => s.name === name)?.relocations[r.index]?.insn;
      const guarded = reachable !== undefined && insn !== undefined && !reachable.has(insn);
      unresolved.push({ relocation: `${r.section}#${r.index}`, kind: r.kind, type: r.type, field: r.field, guarded });
    }
  }
  const failing = unresolved.filter((u) => !u.guarded);
  const guarded = unresolved.length - failing.length;
  const describe = (u: UnresolvedRelocation): string => `relo ${u.relocation} <${u.kind}> ${u.type}${u.field === '' ? '' : `.${u.field}`}`;
  const detail = failing.length > 0
    ? `${failing.length} relocation(s) find no target in this kernel's BTF and run: ${failing.slice(0, 5).map(describe).join('; ')}`
    : `${relocations.length} relocation(s) resolve${guarded > 0 ? `; ${guarded} unresolved unreachable once this kernel's exists answers are patched in: ${unresolved.slice(0, 3).map(describe).join('; ')}` : ''}`;
  return {
    result: failing.length > 0 ? 'incompatible' : 'compatible',
    relocations: relocations.length,
    unresolved,
    detail: [detail, ...notes].join('. ').slice(0, 4000),
    btfBytes,
  };
}

/** The reachable instructions of a section with this kernel's exists answers patched in; undefined when the object and the log disagree. */
function reachableIn(section: BpfSection | undefined, relos: readonly LoggedRelocation[]): Set<number> | undefined {
  if (section === undefined || section.relocations.length !== Math.max(...relos.map((r) => r.index)) + 1) return undefined;
  const constants = new Map<number, bigint>();
  const opaque = new Set<number>();
  for (const r of relos) {
    const record = section.relocations[r.index];
    if (record === undefined || record.kind !== r.kind) return undefined;
    if (EXISTS_KINDS.has(r.kind)) constants.set(record.insn, r.matched ? 1n : 0n);
    else opaque.add(record.insn);
  }
  return reachableInstructions(section.insns, section.entries, constants, opaque);
}
