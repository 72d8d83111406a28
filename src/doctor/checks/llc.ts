import { LLVM_FIX, LLVM_MINIMUM } from '../llvm-minimum.js';
import { checkVersionedTool } from '../tool-version.js';
import type { DoctorCheck } from '../types.js';

/** Targets llc must know: bpf for every object, the kernels' own arches for non-CO-RE IR. */
const TARGETS = [
  ['bpf', /^\s*bpf\s/m],
  ['x86-64', /^\s*x86-64\s/m],
  ['aarch64', /^\s*aarch64\s/m],
] as const;

export const llc: DoctorCheck = {
  id: 'llc',
  title: 'llc (LLVM code generator)',
  required: (c) => c.purposes.has('build') || c.purposes.has('farm'),
  run: async (c) => {
    const { outcome, text } = await checkVersionedTool({ tool: 'llc', args: ['--version'], prefix: /LLVM version/, minimum: LLVM_MINIMUM, fix: LLVM_FIX }, c);
    if (outcome.status !== 'ok') return outcome;
    const absent = TARGETS.filter(([, pattern]) => !pattern.test(text)).map(([name]) => name);
    if (absent.length > 0) {
      return { status: 'problem', version: outcome.version ?? '', detail: `llc ${outcome.version ?? ''} lacks the ${absent.join(', ')} target(s)`, fix: `${LLVM_FIX} (Debian's LLVM has every target)` };
    }
    return { ...outcome, detail: `${outcome.detail} (targets ${TARGETS.map(([n]) => n).join(', ')})` };
  },
};
