import { run, type ExecResult } from '../exec/exec.js';
import type { BuildStep, Executor } from './types.js';

/** Runs build steps directly on this machine with its own toolchain. */
export class LocalExecutor implements Executor {
  readonly name = 'local';
  private toolchain: Promise<string> | undefined;

  async run(step: BuildStep, signal?: AbortSignal): Promise<ExecResult> {
    const [file, ...args] = step.argv;
    if (file === undefined) throw new Error('empty build step');
    return run(file, args, {
      cwd: step.cwd,
      ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
      ...(signal === undefined ? {} : { signal }),
    });
  }

  toolchainId(): Promise<string> {
    this.toolchain ??= Promise.all([run('clang', ['--version']), run('llc', ['--version'])]).then(
      ([clang, llc]) => `${firstLine(clang.stdout)} | ${firstVersionLine(llc.stdout)}`,
    );
    return this.toolchain;
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? '';
}

function firstVersionLine(text: string): string {
  return text.split('\n').find((line) => /version/i.test(line))?.trim() ?? firstLine(text);
}
