import { KbuildError } from '../errors.js';
import { ExecError, run } from '../exec/exec.js';
import { compareRelocations, coreRelocations, type RelocationComparison } from './core-relocations.js';

/**
 * BTFgen: `bpftool gen min_core_btf` keeps only the types the objects'
 * CO-RE relocations touch (a 4-6 MB kernel BTF becomes a few hundred bytes).
 */
export async function minimizeBtf(fullBtf: string, objects: readonly string[], out: string): Promise<void> {
  try {
    await run('bpftool', ['gen', 'min_core_btf', fullBtf, out, ...objects], { timeoutMs: 120_000 });
  } catch (err) {
    if (err instanceof ExecError) {
      throw new KbuildError('E_BTF_MINIMIZE', `bpftool gen min_core_btf failed for ${objects.join(', ')}: ${err.stderr.trim() || err.message}`, { cause: err });
    }
    throw err;
  }
}

/**
 * The check BTFHub does not do: libbpf must compute the same relocations for
 * the objects against the minimized BTF as against the kernel's full BTF.
 */
export async function checkMinimized(fullBtf: string, minimized: string, objects: readonly string[]): Promise<RelocationComparison> {
  const [full, min] = await Promise.all([coreRelocations(fullBtf, objects), coreRelocations(minimized, objects)]);
  return compareRelocations(full, min);
}
