import { KbuildError, errorMessage } from '../errors.js';
import { ExecError, run } from '../exec/exec.js';
import type { CheckOutcome, DoctorContext } from './types.js';

/** The first x.y[.z] after `prefix` in a tool's version banner. */
export function parseVersion(text: string, prefix: RegExp): string | undefined {
  const match = new RegExp(`${prefix.source}\\s*v?(\\d+\\.\\d+(?:\\.\\d+)?)`, prefix.flags).exec(text);
  return match?.[1];
}

/** Numeric comparison of dotted versions; missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export type ToolOutput = { readonly found: true; readonly text: string } | { readonly found: false; readonly why: string };

/** Runs `tool args` for its banner; a tool that is absent or fails is reported, not thrown. */
export async function toolOutput(tool: string, args: readonly string[], context: DoctorContext): Promise<ToolOutput> {
  try {
    const { stdout, stderr } = await run(tool, args, { signal: context.signal, timeoutMs: 15_000 });
    return { found: true, text: `${stdout}${stderr}` };
  } catch (err) {
    if (err instanceof KbuildError && err.code === 'E_TOOL_MISSING') return { found: false, why: `${tool} is not on PATH` };
    if (err instanceof ExecError) return { found: false, why: `\`${tool} ${args.join(' ')}\` failed: ${(err.stderr || err.stdout).trim().split('\n')[0] ?? err.message}` };
    return { found: false, why: `${tool}: ${errorMessage(err)}` };
  }
}

export interface VersionedTool {
  readonly tool: string;
  readonly args: readonly string[];
  /** Text before the version number in the banner. */
  readonly prefix: RegExp;
  /** Lowest version that works, and why. */
  readonly minimum?: { readonly version: string; readonly why: string };
  /** The Debian packages that provide the tool. */
  readonly fix: string;
}

/** The common shape of a toolchain check: present, version readable, not older than the minimum. `text`: the banner, for further checks. */
export async function checkVersionedTool(spec: VersionedTool, context: DoctorContext): Promise<{ outcome: CheckOutcome; text: string }> {
  const out = await toolOutput(spec.tool, spec.args, context);
  if (!out.found) return { outcome: { status: 'problem', detail: out.why, fix: spec.fix }, text: '' };
  const version = parseVersion(out.text, spec.prefix);
  if (version === undefined) {
    return { outcome: { status: 'warn', detail: `${spec.tool}: no version in "${out.text.trim().split('\n')[0] ?? ''}"`, fix: spec.fix }, text: out.text };
  }
  if (spec.minimum !== undefined && compareVersions(version, spec.minimum.version) < 0) {
    return {
      outcome: { status: 'problem', version, detail: `${spec.tool} ${version} is older than ${spec.minimum.version} (${spec.minimum.why})`, fix: spec.fix },
      text: out.text,
    };
  }
  return { outcome: { status: 'ok', version, detail: `${spec.tool} ${version}` }, text: out.text };
}
