import { loadKernelsFile, type LoadedKernelsFile } from '../config/load-kernels-file.js';

/** What a build-set command (build, submit, and sync around them) produced: printed by the caller. */
export interface CommandOutcome {
  readonly exitCode: number;
  /** The --json report (null when there is none, e.g. an interrupted build). */
  readonly json: unknown;
  /** The human report. */
  readonly text: string;
}

/** Loads a kernels file (its notes on stderr), runs the command on it and prints its report. */
export async function runOnKernelsFile(path: string, json: boolean | undefined, run: (loaded: LoadedKernelsFile) => Promise<CommandOutcome>): Promise<number> {
  const loaded = await loadKernelsFile(path);
  for (const warning of loaded.warnings) process.stderr.write(`kbuild: note: ${warning}\n`);
  const outcome = await run(loaded);
  process.stdout.write(json === true ? `${JSON.stringify(outcome.json, null, 2)}\n` : outcome.text);
  return outcome.exitCode;
}
