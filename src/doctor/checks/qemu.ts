import { checkVersionedTool } from '../tool-version.js';
import type { DoctorCheck } from '../types.js';

/** One check per guest arch: verification boots each kernel in QEMU (TCG). */
function qemuCheck(binary: string, arch: string, pkg: string): DoctorCheck {
  return {
    id: binary,
    title: `${binary} (verify ${arch} kernels)`,
    required: (c) => c.purposes.has('verify'),
    run: async (c) => (await checkVersionedTool({ tool: binary, args: ['--version'], prefix: /QEMU emulator version/, fix: `apt-get install ${pkg}` }, c)).outcome,
  };
}

export const qemuX86 = qemuCheck('qemu-system-x86_64', 'x86_64', 'qemu-system-x86');
export const qemuArm64 = qemuCheck('qemu-system-aarch64', 'arm64', 'qemu-system-arm');
