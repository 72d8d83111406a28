import type { ArtifactIndex, IndexArtifact, IndexExternalBtf, IndexFailure, IndexKernel, IndexVerification, VerifyMode } from '@kbuild/loader';
import { kernelKey, matrixKernels } from './kernels.js';

export type CellStatus = 'failed' | 'verified' | 'built' | 'missing';
export type VerifyState = 'ok' | 'failed' | 'not-verifiable' | 'inconclusive' | 'not-run';
export const VERIFY_MODES: readonly VerifyMode[] = ['non-core', 'core-kernel-btf', 'core-external-btf'];

export interface NonCorePart {
  readonly state: 'built' | 'failed' | 'missing';
  readonly artifact?: IndexArtifact;
  readonly failure?: number;
}

export interface CorePart {
  /** kernel-btf: the kernel has its own BTF; external-btf: the index serves one; no-btf: neither. */
  readonly state: 'kernel-btf' | 'external-btf' | 'no-btf' | 'failed' | 'missing';
  readonly artifact?: IndexArtifact;
  readonly btf?: IndexExternalBtf;
  readonly failure?: number;
}

export interface VerifyPart {
  readonly mode: VerifyMode;
  readonly state: VerifyState;
  readonly entry?: IndexVerification;
  /** Position of the verify failure in `index.failures`. */
  readonly failure?: number;
}

export interface MatrixCell {
  readonly probe: string;
  readonly status: CellStatus;
  readonly nonCore: NonCorePart;
  readonly core: CorePart;
  readonly verify: readonly VerifyPart[];
}

export interface MatrixRow {
  readonly kernel: IndexKernel;
  readonly cells: readonly MatrixCell[];
}

export interface Matrix {
  readonly probes: readonly string[];
  readonly rows: readonly MatrixRow[];
}

const key = (...parts: string[]): string => parts.join('\0');

/** Kernels × probes, each cell joining the artifacts, failures, external BTF and QEMU verifications that concern it. */
export function buildMatrix(index: ArtifactIndex): Matrix {
  const probes = [...new Set([...index.artifacts.map((a) => a.probe), ...index.failures.map((f) => f.probe)])].sort();
  const nonCore = new Map<string, IndexArtifact>();
  const core = new Map<string, IndexArtifact>();
  for (const a of index.artifacts) {
    if (a.kind === 'non-core') nonCore.set(key(a.probe, kernelKey(a.kernel)), a);
    else core.set(key(a.probe, a.arch), a);
  }
  const buildFailures = new Map<string, number>();
  const verifyFailures = new Map<string, number>();
  index.failures.forEach((f: IndexFailure, i) => {
    if (f.stage === 'verify') verifyFailures.set(key(f.probe, kernelKey(f.kernel), f.mode ?? (f.kind === 'non-core' ? 'non-core' : '')), i);
    else buildFailures.set(f.kind === 'non-core' ? key(f.probe, kernelKey(f.kernel)) : key(f.probe, f.arch, 'core'), i);
  });
  const withoutBtf = new Map(index.kernelBtf.map((entry) => [kernelKey(entry.kernel), entry]));

  const rows = matrixKernels(index).map((kernel): MatrixRow => {
    const k = kernelKey(kernel);
    const cells = probes.map((probe): MatrixCell => {
      const own = nonCore.get(key(probe, k));
      const ownFailure = buildFailures.get(key(probe, k));
      const nonCorePart: NonCorePart =
        own !== undefined ? { state: 'built', artifact: own } : ownFailure !== undefined ? { state: 'failed', failure: ownFailure } : { state: 'missing' };
      const coreArtifact = core.get(key(probe, kernel.arch));
      const coreFailure = buildFailures.get(key(probe, kernel.arch, 'core'));
      const kernelBtf = withoutBtf.get(k);
      const btf = kernelBtf?.objects.find((o) => o.probe === probe);
      const corePart: CorePart =
        coreArtifact === undefined
          ? coreFailure !== undefined
            ? { state: 'failed', failure: coreFailure }
            : { state: 'missing' }
          : kernelBtf === undefined
            ? { state: 'kernel-btf', artifact: coreArtifact }
            : btf !== undefined
              ? { state: 'external-btf', artifact: coreArtifact, btf }
              : { state: 'no-btf', artifact: coreArtifact };
      const verify = VERIFY_MODES.map((mode) => verifyPart(mode === 'non-core' ? own : coreArtifact, kernel, mode, verifyFailures.get(key(probe, k, mode))));
      return { probe, status: cellStatus(nonCorePart, corePart, verify), nonCore: nonCorePart, core: corePart, verify };
    });
    return { kernel, cells };
  });
  return { probes, rows };
}

function verifyPart(artifact: IndexArtifact | undefined, kernel: IndexKernel, mode: VerifyMode, failure: number | undefined): VerifyPart {
  const k = kernelKey(kernel);
  const entries = (artifact?.verification ?? []).filter(
    (v) => v.method === 'qemu' && (v.mode ?? 'non-core') === mode && kernelKey(v.kernel ?? artifact?.kernel ?? kernel) === k,
  );
  // A merged index can hold an older and a newer run: the last one is the current result.
  const entry = entries.at(-1);
  const withFailure = failure === undefined ? {} : { failure };
  if (entry === undefined) return { mode, state: failure === undefined ? 'not-run' : 'failed', ...withFailure };
  return { mode, state: failure !== undefined ? 'failed' : entry.result, entry, ...withFailure };
}

function cellStatus(nonCore: NonCorePart, core: CorePart, verify: readonly VerifyPart[]): CellStatus {
  if (nonCore.state === 'failed' || core.state === 'failed' || verify.some((v) => v.state === 'failed')) return 'failed';
  if (verify.some((v) => v.state === 'ok')) return 'verified';
  if (nonCore.state === 'built' || core.state === 'kernel-btf' || core.state === 'external-btf') return 'built';
  return 'missing';
}
