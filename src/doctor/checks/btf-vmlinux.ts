import { stat } from 'node:fs/promises';
import type { DoctorCheck } from '../types.js';

const PATH = '/sys/kernel/btf/vmlinux';

/** Without it CO-RE objects need an external BTF on this host (kbuild fetch picks one when the index has it). */
export const btfVmlinux: DoctorCheck = {
  id: 'btf-vmlinux',
  title: 'kernel BTF (/sys/kernel/btf/vmlinux)',
  required: () => false,
  run: async () => {
    try {
      const s = await stat(PATH);
      return { status: 'ok', detail: `${PATH} (${s.size} bytes)` };
    } catch {
      return {
        status: 'problem',
        detail: `${PATH} is absent: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF)`,
        fix: 'CO-RE probes on this host need an external BTF: build with external BTF (kernels.yaml btf) and use `kbuild fetch`',
      };
    }
  },
};
