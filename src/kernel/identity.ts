/** What identifies one kernel across the farm, the index and the loader. */
export const ARCHES = ['x86_64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

export interface KernelIdentity {
  readonly distro: string;
  readonly release: string;
  readonly arch: Arch;
  /** As driverkit's kernelversion / what `uname -v` shows, when known. */
  readonly version?: string;
}

/** The `-D__TARGET_ARCH_<x>` value libbpf's bpf_tracing.h expects. */
export function targetArchMacro(arch: Arch): string {
  return arch === 'x86_64' ? 'x86' : 'arm64';
}

/** The kernel source tree's arch folder name (arch/<x>/include). */
export function kernelSourceArch(arch: Arch): string {
  return arch === 'x86_64' ? 'x86' : 'arm64';
}

/** clang's target triple for the first (IR) stage of a non-CO-RE build. */
export function clangHostTriple(arch: Arch): string {
  return arch === 'x86_64' ? 'x86_64-linux-gnu' : 'aarch64-linux-gnu';
}

export function kernelLabel(kernel: KernelIdentity): string {
  return `${kernel.distro}/${kernel.release}/${kernel.arch}`;
}
