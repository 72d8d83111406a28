import { checkVersionedTool } from '../tool-version.js';
import type { DoctorCheck } from '../types.js';

/** `pahole -J --btf_encode_detached` (src/btf/dbg-btf.ts) turns a debug package into BTF; the flag came in 1.22. */
export const pahole: DoctorCheck = {
  id: 'pahole',
  title: 'pahole (BTF from debug info)',
  required: (c) => c.purposes.has('build') || c.purposes.has('farm'),
  run: async (c) =>
    (await checkVersionedTool({
      tool: 'pahole',
      args: ['--version'],
      prefix: /^/,
      minimum: { version: '1.22', why: '--btf_encode_detached came in pahole 1.22' },
      fix: 'apt-get install pahole (Debian 12; "dwarves" on Debian 11)',
    }, c)).outcome,
};
