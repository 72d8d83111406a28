import { readdir, readFile } from 'node:fs/promises';

/**
 * Peak resident memory of a process tree (the worker and every clang, bpftool
 * and QEMU it starts), sampled from /proc: the worker's own peak (VmHWM, exact)
 * and the largest sum over the tree seen at a sample (a lower bound of the
 * tree's true peak, sampled every `everyMs`).
 */
export interface TreeRss {
  readonly rootPeakBytes: number;
  readonly treePeakBytes: number;
}

async function status(pid: number): Promise<{ ppid: number; rss: number; hwm: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { ppid: field('PPid'), rss: field('VmRSS') * 1024, hwm: field('VmHWM') * 1024 };
  } catch {
    return undefined; // the process ended between readdir and read
  }
}

async function treeRss(root: number): Promise<{ total: number; rootHwm: number }> {
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number);
  const all = new Map<number, { ppid: number; rss: number; hwm: number }>();
  await Promise.all(pids.map(async (p) => {
    const s = await status(p);
    if (s !== undefined) all.set(p, s);
  }));
  const inTree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, s] of all) {
      if (!inTree.has(pid) && inTree.has(s.ppid)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  let total = 0;
  for (const pid of inTree) total += all.get(pid)?.rss ?? 0;
  return { total, rootHwm: all.get(root)?.hwm ?? 0 };
}

export function watchTreeRss(root: number, everyMs = 500): { stop(): Promise<TreeRss> } {
  let rootPeak = 0;
  let treePeak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { total, rootHwm } = await treeRss(root);
      rootPeak = Math.max(rootPeak, rootHwm);
      treePeak = Math.max(treePeak, total);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { rootPeakBytes: rootPeak, treePeakBytes: treePeak };
    },
  };
}
