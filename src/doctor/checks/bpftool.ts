import { checkVersionedTool, toolOutput } from '../tool-version.js';
import type { DoctorCheck } from '../types.js';

const FIX = 'apt-get install bpftool (Debian 12+; on older releases linux-tools-common or a bpftool built from the kernel tree)';

/** Used for vmlinux.h (`btf dump`) and minimized external BTF (`gen min_core_btf`, bpftool >= 5.18's). */
export const bpftool: DoctorCheck = {
  id: 'bpftool',
  title: 'bpftool',
  required: (c) => c.purposes.has('build') || c.purposes.has('farm') || c.purposes.has('verify'),
  run: async (c) => {
    const { outcome } = await checkVersionedTool({ tool: 'bpftool', args: ['version'], prefix: /bpftool/, fix: FIX }, c);
    if (outcome.status !== 'ok') return outcome;
    // `gen help` prints its usage on stderr and exits 0 or 255 depending on the version: read either.
    const help = await toolOutput('bpftool', ['gen', 'help'], c);
    const text = help.found ? help.text : help.why;
    if (!/min_core_btf/.test(text)) {
      return { status: 'problem', version: outcome.version ?? '', detail: `bpftool ${outcome.version ?? ''} has no \`gen min_core_btf\` (needed for external BTF)`, fix: FIX };
    }
    return { ...outcome, detail: `${outcome.detail}, with gen min_core_btf` };
  },
};
