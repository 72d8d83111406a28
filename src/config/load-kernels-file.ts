import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Arch } from '../kernel/identity.js';
import { KernelsFile } from './kernels-schema.js';

export interface LoadedKernelsFile {
  readonly path: string;
  readonly baseDir: string;
  readonly config: KernelsFile;
  readonly warnings: readonly string[];
  /** "file:line: field" of a field of this file, for errors found after parsing (probe roots, sources). */
  readonly locate: (field: readonly (string | number)[]) => string;
}

/** Shape → normalize → cross-field rules; every error names file, line and field. */
export async function loadKernelsFile(path: string): Promise<LoadedKernelsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read the kernels file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseKernelsFile(text, path);
}

export function parseKernelsFile(text: string, path: string): LoadedKernelsFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const pos = lineCounter.linePos(yamlError.pos[0]);
    throw new ConfigError(`${path}:${pos.line}:${pos.col}: malformed YAML: ${firstLine(yamlError.message)}`);
  }
  let plain: unknown;
  try {
    // yaml refuses alias expansions past its limit ("billion laughs"): bad input, not a bug.
    plain = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    throw new ConfigError(`${path}: refusing the YAML: ${firstLine((err as Error).message)} (aliases expand to too many nodes)`);
  }
  const parsed = KernelsFile.safeParse(plain);
  if (!parsed.success) {
    const messages = parsed.error.issues.flatMap(unionBranch).map((issue) => describeIssue(issue, doc, lineCounter, path));
    throw new ConfigError(messages.join('\n'), { suggestions: ['Run `kbuild schema` for the format'] });
  }
  const config = parsed.data;
  const errors: string[] = [];
  const warnings: string[] = [];
  const at = (field: (string | number)[]): string => `${path}:${lineOf(doc, lineCounter, field)}: ${fieldName(field)}`;
  const baseDir = dirname(resolve(path));

  const seenKernels = new Map<string, number>();
  config.kernels.forEach((kernel, i) => {
    const key = `${kernel.distro}/${kernel.release}/${kernel.arch}`;
    const first = seenKernels.get(key);
    if (first !== undefined) errors.push(`${at(['kernels', i])}: duplicate of kernels[${first}] (${key})`);
    else seenKernels.set(key, i);
  });
  const seenProbes = new Set<string>();
  config.probes.forEach((probe, i) => {
    if (seenProbes.has(probe.name)) errors.push(`${at(['probes', i, 'name'])}: duplicate probe name "${probe.name}"`);
    seenProbes.add(probe.name);
    for (const field of ['source', 'root'] as const) {
      const value = probe[field];
      if (value === undefined) continue;
      const rel = relative(baseDir, resolve(baseDir, value));
      if (rel.startsWith('..') || isAbsolute(rel)) {
        errors.push(`${at(['probes', i, field])}: "${value}" leaves the kernels file's folder; expected a path inside ${baseDir}`);
      }
    }
  });
  // Only a CO-RE build that takes kbuild's vmlinux.h for the arch reads it (a project may ship its own).
  const kbuildVmlinux = (arch: Arch): boolean =>
    config.probes.some((p) => (p.builds ?? ['core']).includes('core') && (p.vmlinux === 'kbuild' || (typeof p.vmlinux === 'object' && p.vmlinux[arch] === undefined)));
  for (const arch of new Set(config.kernels.map((k) => k.arch))) {
    if (config.core?.btfFrom?.[arch] === undefined && kbuildVmlinux(arch)) {
      const first = config.kernels.find((k) => k.arch === arch);
      if (first !== undefined) warnings.push(`core.btfFrom.${arch} not set: vmlinux.h comes from ${first.distro} ${first.release}`);
    }
  }
  if (errors.length > 0) throw new ConfigError(errors.join('\n'));
  return { path, baseDir, config, warnings, locate: (field) => at([...field]) };
}

/**
 * A value that fits no branch of a union (e.g. `verify: false | {...}`) is
 * reported through the branch it came closest to (the deepest issue), so the
 * message names the field and what was wrong instead of "Invalid input".
 */
function unionBranch(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
  const depth = (issues: readonly z.core.$ZodIssue[]): number => Math.max(...issues.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 0.5)));
  const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0] ?? [];
  if (best.length === 0 || depth(best) === 0) return [issue];
  return best.flatMap((sub) => unionBranch({ ...sub, path: [...issue.path, ...sub.path] } as z.core.$ZodIssue));
}

function describeIssue(issue: z.core.$ZodIssue, doc: Document, lc: LineCounter, path: string): string {
  const field = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const where = `${path}:${lineOf(doc, lc, field)}: ${fieldName(field) || '(top level)'}`;
  if (issue.code === 'unrecognized_keys') {
    const plural = issue.keys.length > 1 ? 's' : '';
    return `${where}: unknown field${plural} ${issue.keys.map((k) => `"${k}"`).join(', ')} (see \`kbuild schema\` for the allowed fields)`;
  }
  if (issue.code === 'invalid_type') {
    // zod does not keep the input in its issues: the value is read back from the document.
    const value: unknown = doc.hasIn(field) ? doc.getIn(field) : undefined;
    if (value === undefined) return `${where}: required field is missing (expected ${issue.expected})`;
    const got = value === null ? 'null' : typeof value === 'object' ? 'a list or a map' : `${typeof value} ${JSON.stringify(value)}`;
    const hint = typeof value === 'number' && issue.expected === 'string' ? ` (quote it: "${String(value)}")` : '';
    return `${where}: expected ${issue.expected}, got ${got}${hint}`;
  }
  return `${where}: ${issue.message}`;
}


/** Deepest node that exists on the path gives the line: a missing field points at its parent. */
function lineOf(doc: Document, lc: LineCounter, field: readonly (string | number)[]): number {
  for (let depth = field.length; depth >= 0; depth--) {
    const prefix = field.slice(0, depth);
    const node = depth === 0 ? doc.contents : doc.getIn(prefix, true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    const offset = keyOffset(doc, prefix) ?? range?.[0];
    if (offset !== undefined) return lc.linePos(offset).line;
  }
  return 1;
}

function keyOffset(doc: Document, field: readonly (string | number)[]): number | undefined {
  const last = field[field.length - 1];
  if (typeof last !== 'string') return undefined;
  const parent = field.length === 1 ? doc.contents : doc.getIn(field.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((item) => (item.key as { value?: unknown } | null)?.value === last);
  return (pair?.key as { range?: [number, number, number] } | null | undefined)?.range?.[0];
}

function fieldName(field: readonly (string | number)[]): string {
  return field.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
