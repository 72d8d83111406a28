import { LLVM_FIX, LLVM_MINIMUM } from '../llvm-minimum.js';
import { checkVersionedTool, parseVersion, toolOutput } from '../tool-version.js';
import type { DoctorCheck } from '../types.js';

export const opt: DoctorCheck = {
  id: 'opt',
  title: 'opt (LLVM optimizer)',
  required: (c) => c.purposes.has('build') || c.purposes.has('farm'),
  run: async (c) => {
    const { outcome } = await checkVersionedTool({ tool: 'opt', args: ['--version'], prefix: /LLVM version/, minimum: LLVM_MINIMUM, fix: LLVM_FIX }, c);
    if (outcome.status !== 'ok' || outcome.version === undefined) return outcome;
    // opt reads the IR clang writes; IR from a newer clang is rejected by an older opt.
    const banner = await toolOutput('clang', ['--version'], c);
    const clangVersion = banner.found ? parseVersion(banner.text, /clang version/) : undefined;
    const major = (v: string): string => v.split('.')[0] ?? v;
    if (clangVersion !== undefined && major(clangVersion) !== major(outcome.version)) {
      return {
        status: 'problem',
        version: outcome.version,
        detail: `opt ${outcome.version} and clang ${clangVersion} differ in major version; opt may not read clang's IR`,
        fix: `install matching versions: ${LLVM_FIX} (or put one LLVM's bin folder first on PATH)`,
      };
    }
    return outcome;
  },
};
