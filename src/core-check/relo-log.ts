import { relocationLines } from '../btf/core-relocations.js';

/**
 * libbpf's own account of each CO-RE relocation against a target BTF, from
 * the debug log `bpftool -d gen min_core_btf` prints (libbpf's relo_core.c,
 * bpf_core_calc_relo_insn): the local spec, then "matching candidate" lines,
 * or "no matching targets found" when none matched (libbpf then poisons the
 * instruction, or patches 0 for exists kinds).
 */
export interface LoggedRelocation {
  readonly section: string;
  readonly index: number;
  /** "<byte_off> struct module.core_layout.base (0:0:0 @ offset 0)", type id removed. */
  readonly local: string;
  readonly kind: string;
  /** "struct module", "enum foo", "typedef u64". */
  readonly type: string;
  /** The field path or enumerator ("core_layout.base"); empty for type relocations. */
  readonly field: string;
  readonly matched: boolean;
}

export interface RelocationLog {
  readonly relocations: readonly LoggedRelocation[];
  /** libbpf's warnings that fail a load outright (ambiguous candidates, a bad spec). */
  readonly errors: readonly string[];
}

const SPEC = /^<([a-z0-9_]+)> (?:\[[0-9]+\] )?((?:struct|union|enum|enum64|typedef|int|fwd|func|ptr|array|const|volatile|float|restrict|func_proto|var|datasec|decl_tag|type_tag|[a-z0-9_]+) [^ .:(]*|[^ .:(]+)(?:(?:\.|::)([^ (=]+))?/;
/** Only on relocation lines: libbpf's other warnings (missing sections, maps) say nothing about CO-RE. */
const ERROR_TEXT = /ambiguity|failed|unexpected|invalid|error/i;

export function parseRelocations(log: string): RelocationLog {
  const found = new Map<string, { section: string; index: number; local: string; matched: boolean }>();
  const errors: string[] = [];
  for (const { section, index, text } of relocationLines(log)) {
    const key = `${section}#${index}`;
    const relo = found.get(key) ?? { section, index, local: '', matched: false };
    found.set(key, relo);
    if (text.startsWith('matching candidate')) relo.matched = true;
    else if (text.startsWith('<') && relo.local === '') relo.local = text.replace(/\[[0-9]+\] /, '');
    if (ERROR_TEXT.test(text) && !text.includes('non-matching candidate')) errors.push(`prog '${section}': relo #${index}: ${text}`);
  }
  const relocations = [...found.values()].map((r) => {
    const spec = SPEC.exec(r.local);
    return { ...r, kind: spec?.[1] ?? 'unknown', type: (spec?.[2] ?? '').trim(), field: spec?.[3] ?? '' };
  });
  return { relocations, errors };
}
