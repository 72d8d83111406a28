import { LLVM_FIX, LLVM_MINIMUM } from '../llvm-minimum.js';
import { checkVersionedTool } from '../tool-version.js';
import type { DoctorCheck } from '../types.js';

export const clang: DoctorCheck = {
  id: 'clang',
  title: 'clang',
  required: (c) => c.purposes.has('build') || c.purposes.has('farm') || c.purposes.has('verify'),
  run: async (c) => (await checkVersionedTool({ tool: 'clang', args: ['--version'], prefix: /clang version/, minimum: LLVM_MINIMUM, fix: LLVM_FIX }, c)).outcome,
};
