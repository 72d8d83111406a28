import { execa } from 'execa';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
export const CLI = join(REPO_ROOT, 'bin', 'kbuild.js');

export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the compiled CLI as a user would, in its own process. `build` and
 * `submit` get `--no-verify` unless `verify: true`: QEMU boots cost minutes,
 * and only the verify tests are about them.
 */
export async function kbuild(args: readonly string[], options: { cwd?: string; env?: Record<string, string>; verify?: boolean } = {}): Promise<CliResult> {
  const noVerify = options.verify !== true && (args[0] === 'build' || args[0] === 'submit') ? ['--no-verify'] : [];
  const result = await execa('node', [CLI, ...args, ...noVerify], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...options.env },
    reject: false,
    timeout: 20 * 60 * 1000,
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/**
 * Wraps clang and llc with scripts that log every real compile (not the
 * `--version` probes) to a file, so a test can count compiles.
 */
export async function countingToolchain(dir: string): Promise<{ path: string; log: string }> {
  const bin = join(dir, 'bin');
  const log = join(dir, 'compiles.log');
  await mkdir(bin, { recursive: true });
  for (const tool of ['clang', 'llc']) {
    const script = `#!/bin/sh\ncase "$1" in --version|-print-file-name*) ;; *) echo "${tool} $*" >> "${log}" ;; esac\nexec /usr/bin/${tool} "$@"\n`;
    await writeFile(join(bin, tool), script);
    await chmod(join(bin, tool), 0o755);
  }
  await writeFile(log, '');
  return { path: `${bin}:${process.env['PATH'] ?? ''}`, log };
}
