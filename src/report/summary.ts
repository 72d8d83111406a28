import type { ArtifactIndex } from '@kbuild/loader';
import { coreCoverage } from './core-coverage.js';
import { matrixKernels } from './kernels.js';
import { loadability } from './loadable.js';
import { buildMatrix } from './matrix.js';

/** BTF bytes an agent downloads for kernels without their own BTF: the full BTF vs the minimized blobs. */
export interface BtfSavings {
  /** Kernels in `kernelBtf`. */
  readonly kernels: number;
  /** Their full BTF, each distinct one counted once. */
  readonly fullBytes: number;
  /** The blobs the index serves for them (minimized, or full where minimizing failed), each distinct one once. */
  readonly servedBytes: number;
  /** 1 - served / full; 0 without kernels. */
  readonly savedRatio: number;
}

export interface ReportSummary {
  readonly kernels: number;
  readonly probes: number;
  readonly artifacts: number;
  readonly nonCore: number;
  readonly core: number;
  readonly failures: number;
  readonly buildFailures: number;
  readonly verifyFailures: number;
  /** QEMU verifications (one per artifact, booted kernel and mode) by result. */
  readonly verified: { readonly ok: number; readonly failed: number; readonly notVerifiable: number; readonly inconclusive: number };
  readonly btf: BtfSavings;
  /** Kernels where the loader would find nothing to load for at least one probe. */
  readonly unloadableKernels: number;
  /** The offline CO-RE check: predictions (object × kernel) by result, and how many QEMU contradicted. */
  readonly coreCheck: { readonly compatible: number; readonly incompatible: number; readonly unknown: number; readonly comparedWithQemu: number; readonly disagreements: number };
}

/** The counts a report shows, from the index alone. */
export function summarizeIndex(index: ArtifactIndex): ReportSummary {
  const qemu = index.artifacts.flatMap((a) => a.verification.filter((v) => v.method === 'qemu'));
  const verifyFailures = index.failures.filter((f) => f.stage === 'verify').length;
  const probes = new Set([...index.artifacts.map((a) => a.probe), ...index.failures.map((f) => f.probe)]);
  return {
    kernels: matrixKernels(index).length,
    probes: probes.size,
    artifacts: index.artifacts.length,
    nonCore: index.artifacts.filter((a) => a.kind === 'non-core').length,
    core: index.artifacts.filter((a) => a.kind === 'core').length,
    failures: index.failures.length,
    buildFailures: index.failures.length - verifyFailures,
    verifyFailures,
    verified: {
      ok: qemu.filter((v) => v.result === 'ok').length,
      failed: qemu.filter((v) => v.result === 'failed').length,
      notVerifiable: qemu.filter((v) => v.result === 'not-verifiable').length,
      inconclusive: qemu.filter((v) => v.result === 'inconclusive').length,
    },
    btf: btfSavings(index),
    unloadableKernels: loadability(index, buildMatrix(index)).unloadable.length,
    coreCheck: coreCoverage(index).counts,
  };
}

export function btfSavings(index: ArtifactIndex): BtfSavings {
  let fullBytes = 0;
  let servedBytes = 0;
  for (const entry of index.kernelBtf) {
    fullBytes += sumDistinct(entry.objects.map((o) => o.source));
    servedBytes += sumDistinct(entry.objects.map((o) => o.btf));
  }
  return { kernels: index.kernelBtf.length, fullBytes, servedBytes, savedRatio: fullBytes === 0 ? 0 : 1 - servedBytes / fullBytes };
}

/** Blobs are content-addressed: the same sha256 for two probes is one download. */
function sumDistinct(blobs: readonly { sha256: string; size: number }[]): number {
  const sizes = new Map(blobs.map((b) => [b.sha256, b.size]));
  return [...sizes.values()].reduce((sum, size) => sum + size, 0);
}
