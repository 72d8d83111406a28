import { Queue } from 'bullmq';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BULL_PREFIX, farmKey } from '../../src/queue/settings.js';
import { CLI, REPO_ROOT } from './cli.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A queue name of its own for each test, so parallel or leftover runs never meet. */
export function uniqueQueue(tag: string): string {
  return `test-${tag}-${randomBytes(4).toString('hex')}`;
}

/** Removes every key of a queue: BullMQ's (obliterate) and the farm's own. */
export async function removeQueue(name: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  try {
    const queue = new Queue(name, { connection: redis, prefix: BULL_PREFIX });
    await queue.obliterate({ force: true });
    await queue.close();
    for (const pattern of [`${BULL_PREFIX}:${name}:*`, `${farmKey(name)}:*`]) {
      const keys = await redis.keys(pattern);
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    await redis.quit();
  }
}

export interface WorkerProcess {
  readonly child: ReturnType<typeof spawnWorker>;
  /** `host:pid`, as the worker reports itself in job results. */
  readonly name: string;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

export interface WorkerOptions {
  env?: Record<string, string>;
  args?: string[];
  /** Default: the shared Redis at 127.0.0.1. */
  redisUrl?: string;
  /** A command the worker runs under (`ip netns exec NS ...`); it must exec the worker so signals reach it. */
  wrap?: readonly string[];
}

function spawnWorker(queue: string, options: WorkerOptions) {
  const command = [...(options.wrap ?? []), 'node', CLI, 'worker', '--queue', queue, '--redis', options.redisUrl ?? REDIS_URL, ...(options.args ?? [])];
  return execa(command[0]!, command.slice(1), {
    cwd: REPO_ROOT,
    env: { ...options.env },
    reject: false,
    // execa's kill() sends SIGKILL 5 s after SIGTERM by default: a worker finishing a slow build on a
    // loaded machine was killed that way (exit code undefined), which is not what the SIGTERM tests test.
    forceKillAfterDelay: false,
  });
}

/** A real `kbuild worker` process, started the way an operator would. */
export async function startWorker(queue: string, options: WorkerOptions = {}): Promise<WorkerProcess> {
  const child = spawnWorker(queue, options);
  let text = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    for (const w of waiters.filter((x) => x.pattern.test(text))) w.resolve();
  });
  const worker: WorkerProcess = {
    child,
    name: '',
    output: () => text,
    waitFor: (pattern, timeoutMs = 10 * 60 * 1000) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(text)) return resolve();
        const timer = setTimeout(() => reject(new Error(`worker never printed ${pattern}:\n${text}`)), timeoutMs);
        waiters.push({ pattern, resolve: () => (clearTimeout(timer), resolve()) });
        void child.then(() => reject(new Error(`worker exited before printing ${pattern}:\n${text}`)));
      }),
  };
  await worker.waitFor(/kbuild worker \S+: queue/, 60_000);
  const name = /kbuild worker (\S+): queue/.exec(text)?.[1] ?? '';
  return { ...worker, name };
}

/** Stops a worker politely and checks it exits 0. */
export async function stopWorker(worker: WorkerProcess): Promise<number | undefined> {
  worker.child.kill('SIGTERM');
  const result = await worker.child;
  return result.exitCode;
}

/**
 * A toolchain whose compiles take `seconds` longer (so a test can act mid-build),
 * or never finish when `hang` is set; `--version` answers at once so build ids match the real one.
 */
export async function slowToolchain(dir: string, seconds: number, hang = false): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  for (const tool of ['clang', 'llc']) {
    const body = hang ? `exec sleep ${seconds}` : `sleep ${seconds}\nexec /usr/bin/${tool} "$@"`;
    const script = `#!/bin/sh\ncase "$1" in --version|-print-file-name*) exec /usr/bin/${tool} "$@" ;; esac\n${body}\n`;
    await writeFile(join(bin, tool), script);
    await chmod(join(bin, tool), 0o755);
  }
  return `${bin}:${process.env['PATH'] ?? ''}`;
}

/**
 * Queues and worker processes of one test file, all removed by `cleanup()`
 * (workers still running are stopped, every queue's keys deleted).
 */
export function farmFixture(): {
  /** Every worker started, in order. */
  readonly workers: readonly WorkerProcess[];
  queue(tag: string): string;
  worker(queue: string, env?: Record<string, string>, args?: string[]): Promise<WorkerProcess>;
  cleanup(): Promise<void>;
} {
  const queues: string[] = [];
  const workers: WorkerProcess[] = [];
  return {
    workers,
    queue(tag) {
      const name = uniqueQueue(tag);
      queues.push(name);
      return name;
    },
    async worker(queue, env = {}, args = []) {
      const w = await startWorker(queue, { env, args: ['--concurrency', '1', ...args] });
      workers.push(w);
      return w;
    },
    async cleanup() {
      await Promise.all(workers.map((w) => (w.child.exitCode === null ? stopWorker(w) : undefined)));
      for (const q of queues) await removeQueue(q);
    },
  };
}
