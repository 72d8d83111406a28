import type { ExecResult } from '../exec/exec.js';

/**
 * One command of a build. Paths are host paths; an executor that runs
 * elsewhere (a container) maps the folders listed here and nothing else.
 */
export interface BuildStep {
  readonly argv: readonly string[];
  readonly cwd: string;
  /** Folders the step reads (headers, probe sources, toolchain-independent inputs). */
  readonly readOnly: readonly string[];
  /** The single folder the step may write to. */
  readonly writable: string;
  readonly timeoutMs?: number;
}

export interface Executor {
  readonly name: string;
  run(step: BuildStep, signal?: AbortSignal): Promise<ExecResult>;
  /** A stable description of the toolchain (clang/llc versions), part of every build id. */
  toolchainId(): Promise<string>;
}
