import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Arch } from '../kernel/identity.js';

/**
 * How each arch's kernel is booted (DESIGN.md): TCG only, one CPU, the
 * serial console on stdio and nothing else, and -no-reboot so the guest's
 * reboot (or a panic, with panic=-1) ends QEMU. arm64 uses `-cpu max` so
 * 16K- and 64K-page kernels boot (cortex-a57 has 4K pages only), with
 * QEMU's cheap implementation-defined pointer authentication: emulating
 * the architected QARMA5 made boots 5x slower (30 s instead of 6 s).
 */

export interface QemuSetup {
  readonly binary: string;
  readonly machine: readonly string[];
  readonly console: string;
}

export const QEMU_SETUPS: Readonly<Record<Arch, QemuSetup>> = {
  x86_64: { binary: 'qemu-system-x86_64', machine: ['-M', 'pc', '-cpu', 'max'], console: 'ttyS0' },
  arm64: { binary: 'qemu-system-aarch64', machine: ['-M', 'virt', '-cpu', 'max,pauth-impdef=on'], console: 'ttyAMA0' },
};

export const GUEST_MEMORY = '512M';

export interface BootFiles {
  readonly kernel: string;
  readonly initramfs: string;
}

export function qemuArgs(arch: Arch, files: BootFiles): string[] {
  const setup = QEMU_SETUPS[arch];
  return [
    ...setup.machine,
    '-accel', 'tcg',
    '-smp', '1',
    '-m', GUEST_MEMORY,
    '-nodefaults',
    '-display', 'none',
    '-serial', 'stdio',
    '-monitor', 'none',
    '-no-reboot',
    '-kernel', files.kernel,
    '-initrd', files.initramfs,
    '-append', `console=${setup.console} panic=-1 quiet rdinit=/init`,
  ];
}

async function onPath(binary: string): Promise<string | undefined> {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, binary);
    const found = await access(candidate, 1 /* X_OK */).then(() => true, () => false);
    if (found) return candidate;
  }
  return undefined;
}

/** true, or why this arch cannot be booted here (so a driver can mark cases not-verifiable without booting). */
export async function qemuAvailable(arch: Arch): Promise<true | string> {
  const setup = QEMU_SETUPS[arch];
  if (setup === undefined) return `no QEMU setup for arch ${String(arch)}`;
  if ((await onPath(setup.binary)) === undefined) {
    const pkg = arch === 'x86_64' ? 'qemu-system-x86' : 'qemu-system-arm';
    return `${setup.binary} is not installed (Debian package ${pkg}; scripts/setup.sh installs it)`;
  }
  return true;
}
