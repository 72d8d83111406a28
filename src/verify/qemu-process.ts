import { execa } from 'execa';
import { KbuildError } from '../errors.js';
import { cpuSlots } from '../util/cpu-slots.js';
import { liveMembers, waitGroupGone } from './process-group.js';

/**
 * Runs QEMU in a process group of its own and makes sure the group is gone
 * when the boot ends, whichever way: the guest powers off, the wall-clock
 * limit passes, the caller aborts, or this process gets SIGINT/SIGTERM or
 * exits. It talks to execa directly rather than through src/exec/exec.ts
 * because it needs what run() deliberately hides: a detached process group
 * to kill as a whole, and the console streamed as it arrives.
 *
 * A second line of defence covers what no handler can (this process killed
 * with SIGKILL): QEMU runs under coreutils' timeout(1), which kills it a few
 * seconds after the limit even when nobody is left to do it.
 */

export interface BootRun {
  readonly console: string;
  readonly outcome: 'exited' | 'timeout' | 'aborted';
  readonly exitCode?: number;
  readonly signal?: string;
  readonly seconds: number;
}

export interface BootOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Console bytes kept (the tail; results come before the end anyway). */
  readonly maxConsoleBytes?: number;
  readonly onConsole?: (chunk: string) => void;
  /** Called with the process group id once QEMU (under timeout(1)) runs. */
  readonly onStart?: (pid: number) => void;
}

const live = new Set<number>();
let handlersInstalled = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

function onParentSignal(signal: NodeJS.Signals): void {
  for (const pid of live) killGroup(pid);
  live.clear();
  removeHandlers();
  // Ours was the only handler: behave as if there had been none (default action: die of the signal).
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

const onSigint = (): void => onParentSignal('SIGINT');
const onSigterm = (): void => onParentSignal('SIGTERM');
const onExit = (): void => {
  for (const pid of live) killGroup(pid);
};

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  process.on('exit', onExit);
}

function removeHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
  process.off('exit', onExit);
}

/** Process ids of QEMU groups still running (tests check it is empty). */
export function liveBoots(): readonly number[] {
  return [...live];
}

/**
 * Boots one guest (one TCG vCPU: one core busy) holding one of the process's
 * CPU slots, so boots share the cores with the builds of the same worker; its
 * time limit starts when QEMU does, not while it waits for a slot.
 */
export async function bootQemu(binary: string, args: readonly string[], options: BootOptions): Promise<BootRun> {
  const aborted: BootRun = { console: '', outcome: 'aborted', seconds: 0 };
  if (options.signal?.aborted === true) return aborted;
  try {
    return await cpuSlots().run(() => runQemu(binary, args, options), options.signal);
  } catch (err) {
    if (options.signal?.aborted) return aborted;
    throw err;
  }
}

async function runQemu(binary: string, args: readonly string[], options: BootOptions): Promise<BootRun> {
  const started = performance.now();
  const maxConsole = options.maxConsoleBytes ?? 4 * 1024 * 1024;
  const hardLimit = String(Math.ceil(options.timeoutMs / 1000) + 5);
  const child = execa('timeout', ['--signal=KILL', hardLimit, binary, ...args], {
    detached: true,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    buffer: false,
    cleanup: true,
  });
  const pid = child.pid;
  if (pid === undefined) {
    const result = await child;
    throw new KbuildError('E_QEMU', `could not start ${binary}: ${String(result.message ?? result.code ?? 'unknown error')}`);
  }
  live.add(pid);
  installHandlers();
  options.onStart?.(pid);

  let text = '';
  const append = (chunk: Buffer): void => {
    const piece = chunk.toString('latin1');
    options.onConsole?.(piece);
    text += piece;
    if (text.length > maxConsole) text = text.slice(text.length - maxConsole);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  let outcome: BootRun['outcome'] = 'exited';
  const timer = setTimeout(() => {
    outcome = 'timeout';
    killGroup(pid);
  }, options.timeoutMs);
  const onAbort = (): void => {
    outcome = 'aborted';
    killGroup(pid);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await child;
    // timeout(1) itself killed QEMU: our timer lost a race with it.
    if (outcome === 'exited' && result.exitCode === 137) outcome = 'timeout';
    return {
      console: text,
      outcome,
      ...(result.exitCode === undefined ? {} : { exitCode: result.exitCode }),
      ...(result.signal === undefined ? {} : { signal: result.signal }),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    // Whatever is left of the group (there should be nothing) goes too, and is waited for.
    killGroup(pid);
    if (!(await waitGroupGone(pid, 5000))) {
      throw new KbuildError('E_QEMU', `QEMU process group ${pid} survived SIGKILL: ${(await liveMembers(pid)).join(', ')}`);
    }
    live.delete(pid);
    if (live.size === 0) removeHandlers();
  }
}
