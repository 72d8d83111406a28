import { access } from 'node:fs/promises';
import type { DoctorCheck } from '../types.js';

/** Probes include <bpf/bpf_helpers.h>; compile.ts takes libbpf's headers from /usr/include/bpf. */
const HEADER = '/usr/include/bpf/bpf_helpers.h';

export const libbpfHeaders: DoctorCheck = {
  id: 'libbpf-headers',
  title: 'libbpf headers',
  required: (c) => c.purposes.has('build') || c.purposes.has('farm'),
  run: async () => {
    try {
      await access(HEADER);
      return { status: 'ok', detail: HEADER };
    } catch {
      return { status: 'problem', detail: `${HEADER} not found`, fix: 'apt-get install libbpf-dev' };
    }
  },
};
