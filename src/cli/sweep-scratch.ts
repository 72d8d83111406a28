import { sweepScratch } from '../util/scratch.js';

/** At the start of `build`, `verify` and `worker`: scratch folders of killed runs are removed, with one line saying so. */
export async function sweepLeftoverScratch(): Promise<void> {
  const removed = await sweepScratch();
  if (removed.length > 0) process.stderr.write(`kbuild: removed ${removed.length} scratch folder(s) of processes that are gone: ${removed.join(', ')}\n`);
}
