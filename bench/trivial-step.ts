import { run } from '../src/exec/exec.js';
import { sha256Hex } from '../src/job/build-id.js';
import { artifactKey } from '../src/job/processor.js';
import { jobArch, jobKernel, jobLabel } from '../src/job/types.js';
import type { BuildStep } from '../src/queue/build-step.js';
import type { ArtifactStore } from '../src/store/types.js';

/**
 * The benchmark's build step: one trivial command and a tiny object put in the
 * store, so what is measured is the farm (queue, locks, results, publish), not clang.
 */
export function trivialStep(openStore: (url: string) => Promise<ArtifactStore>): BuildStep {
  return async (data) => {
    await run('true', []);
    const job = data.job;
    if (job.kind === 'btf') return { status: 'built' };
    const bytes = Buffer.from(`${jobLabel(job)}\n`);
    const key = artifactKey(job);
    const store = await openStore(data.store);
    await store.putBytes(key, bytes);
    return {
      status: 'built',
      artifact: {
        path: key,
        probe: job.probe.name,
        kind: job.kind,
        arch: jobArch(job),
        kernel: { ...jobKernel(job) },
        size: bytes.length,
        sha256: sha256Hex(bytes),
        buildId: sha256Hex(Buffer.from(key)),
        toolchain: 'bench',
        verification: [],
      },
    };
  };
}
