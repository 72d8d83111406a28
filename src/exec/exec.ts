import { execa, type Options } from 'execa';
import { KbuildError } from '../errors.js';

/** A command that failed, with everything needed to understand why. */
export class ExecError extends KbuildError {
  readonly command: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode_: number | undefined;
  readonly signal: string | undefined;
  readonly timedOut: boolean;

  constructor(fields: {
    command: string;
    stdout: string;
    stderr: string;
    exitCode: number | undefined;
    signal: string | undefined;
    timedOut: boolean;
  }) {
    const why = fields.timedOut
      ? 'timed out'
      : fields.signal !== undefined
        ? `killed by ${fields.signal}`
        : `exited with ${fields.exitCode ?? '?'}`;
    super('E_EXEC', `${fields.command} ${why}`);
    this.command = fields.command;
    this.stdout = fields.stdout;
    this.stderr = fields.stderr;
    this.exitCode_ = fields.exitCode;
    this.signal = fields.signal;
    this.timedOut = fields.timedOut;
  }
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  readonly timeoutMs?: number;
  readonly input?: string | Buffer;
  readonly signal?: AbortSignal;
}

/** Runs a program without a shell; never interpolates arguments into a command line. */
export async function run(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const execaOptions: Options = {
    reject: false,
    stripFinalNewline: false,
    extendEnv: true,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs, killSignal: 'SIGKILL' as const }),
    ...(options.input === undefined ? {} : { input: options.input }),
    ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
  };
  const result = await execa(file, args, execaOptions);
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  if (result.failed) {
    if (result.code === 'ENOENT') {
      throw new KbuildError('E_TOOL_MISSING', `${file} is not installed or not on PATH`, {
        suggestions: ['Run scripts/setup.sh to install the toolchain'],
      });
    }
    throw new ExecError({
      command: [file, ...args].join(' '),
      stdout,
      stderr,
      exitCode: result.exitCode,
      signal: result.signal,
      timedOut: result.timedOut,
    });
  }
  return { stdout, stderr };
}

export interface FilterOptions {
  /** Refuse output above this many bytes (a decompression bomb stops here). */
  readonly maxBytes: number;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Runs a filter (e.g. `xz -dc`): `input` on stdin, stdout returned as bytes. */
export async function runFilter(file: string, args: readonly string[], input: Buffer, options: FilterOptions): Promise<Buffer> {
  const result = await execa(file, args, {
    reject: false,
    input,
    encoding: 'buffer',
    stripFinalNewline: false,
    maxBuffer: options.maxBytes,
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs, killSignal: 'SIGKILL' as const }),
    ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
  });
  if (result.failed) {
    if (result.code === 'ENOENT') throw new KbuildError('E_TOOL_MISSING', `${file} is not installed or not on PATH`, { suggestions: ['Run scripts/setup.sh'] });
    const stderr = Buffer.from(result.stderr ?? new Uint8Array()).toString('utf8');
    const why = result.isMaxBuffer ? `produced more than ${options.maxBytes} bytes` : stderr.trim();
    throw new ExecError({ command: [file, ...args].join(' '), stdout: '', stderr: why, exitCode: result.exitCode, signal: result.signal, timedOut: result.timedOut });
  }
  return Buffer.from(result.stdout);
}
