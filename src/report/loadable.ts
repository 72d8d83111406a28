import { pick, type ArtifactIndex, type HostIdentity, type IndexKernel, type PickMode, type Rejection } from '@kbuild/loader';
import { kernelKey } from './kernels.js';
import type { Matrix } from './matrix.js';

/** What an agent on this kernel would load for one probe, by the loader's own pick; undefined: nothing. */
export type LoadChoice = PickMode | undefined;

export interface UnloadableKernel {
  readonly kernel: IndexKernel;
  /** Probes with nothing loadable on this kernel (all of them when the kernel is left with nothing). */
  readonly probes: readonly string[];
  /** Per probe, the loader's reason (its `needs`, or the last rejection). */
  readonly reasons: readonly string[];
}

export interface Loadability {
  /** `kernelKey \0 probe` → the mode the loader would pick. */
  readonly choices: ReadonlyMap<string, LoadChoice>;
  /** Kernels with at least one probe that nothing in the index can serve, in matrix order. */
  readonly unloadable: readonly UnloadableKernel[];
}

export const loadKey = (kernel: IndexKernel, probe: string): string => `${kernelKey(kernel)}\0${probe}`;

/**
 * Runs the loader's pick (default options: a failed QEMU verification there
 * rules an artifact out, an unverified one does not) for every kernel × probe
 * of the matrix, as a host running that kernel would: BTF present unless the
 * index lists the kernel in kernelBtf, `uname -v` satisfying the kernel's
 * recorded version.
 */
export function loadability(index: ArtifactIndex, matrix: Matrix): Loadability {
  const withoutBtf = new Set(index.kernelBtf.map((entry) => kernelKey(entry.kernel)));
  const knownProbes = new Set(index.artifacts.map((a) => a.probe));
  const choices = new Map<string, LoadChoice>();
  const unloadable: UnloadableKernel[] = [];
  for (const row of matrix.rows) {
    const host = hostOf(row.kernel, !withoutBtf.has(kernelKey(row.kernel)));
    const probes: string[] = [];
    const reasons: string[] = [];
    for (const probe of matrix.probes) {
      // A probe whose every build failed has no artifact at all: pick would throw E_UNKNOWN_PROBE.
      const result = knownProbes.has(probe) ? pick(index, host, probe) : undefined;
      const mode = result?.choice?.mode;
      choices.set(loadKey(row.kernel, probe), mode);
      if (mode === undefined) {
        probes.push(probe);
        reasons.push(result === undefined ? 'no build of this probe succeeded anywhere' : (result.needs ?? ownRejection(result.rejected) ?? 'no artifact was built for this kernel or its arch'));
      }
    }
    if (probes.length > 0) unloadable.push({ kernel: row.kernel, probes, reasons });
  }
  return { choices, unloadable };
}

/** The rejection that concerns this kernel, not the objects built for another kernel or arch. */
function ownRejection(rejected: readonly Rejection[]): string | undefined {
  return rejected.filter((r) => !r.reason.startsWith('built for')).at(-1)?.reason;
}

/** The host identity of a kernel: a bare build number becomes `#N`, as `uname -v` starts. */
function hostOf(kernel: IndexKernel, hasBtf: boolean): HostIdentity {
  const v = kernel.version ?? '';
  return { distro: kernel.distro, release: kernel.release, arch: kernel.arch, hasBtf, version: /^[0-9]+$/.test(v) ? `#${v}` : v };
}
