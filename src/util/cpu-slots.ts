import { availableParallelism } from 'node:os';

/**
 * The work of a build that keeps a core busy (extracting a package, running a
 * compiler) takes one of this process's CPU slots; waiting on the network does
 * not. A worker can then keep more jobs in flight than it has cores: while two
 * jobs compile, the next ones download their packages, instead of a core idling
 * through every download. First come, first served.
 *
 * Slots: $KBUILD_CPU_SLOTS, else the machine's cores.
 */

export function cpuSlotCount(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['KBUILD_CPU_SLOTS'];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : availableParallelism();
}

/**
 * Jobs a builder keeps in flight by default: twice its CPU slots, so that one
 * job's download overlaps another's compile and no slot waits on the network.
 */
export function defaultJobsInFlight(env: NodeJS.ProcessEnv = process.env): number {
  return 2 * cpuSlotCount(env);
}

export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`slots must be a positive integer, got ${size}`);
    this.free = size;
  }

  /** Runs `fn` holding a slot; the slot is given back however `fn` ends. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /** Jobs waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted while waiting for a CPU slot'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter: `free` only grows when nobody waits.
    if (next !== undefined) next();
    else this.free++;
  }
}

let shared: Slots | undefined;

/** This process's CPU slots, shared by every job it runs. */
export function cpuSlots(): Slots {
  shared ??= new Slots(cpuSlotCount());
  return shared;
}
