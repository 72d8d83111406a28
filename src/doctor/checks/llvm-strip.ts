import { checkVersionedTool } from '../tool-version.js';
import type { DoctorCheck } from '../types.js';

export const llvmStrip: DoctorCheck = {
  id: 'llvm-strip',
  title: 'llvm-strip',
  required: (c) => c.purposes.has('build') || c.purposes.has('farm'),
  run: async (c) => (await checkVersionedTool({ tool: 'llvm-strip', args: ['--version'], prefix: /LLVM version/, fix: 'apt-get install llvm' }, c)).outcome,
};
