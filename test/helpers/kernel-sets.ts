/**
 * The real Debian kernels the end-to-end tests build: one amd64 cloud
 * flavour, one 6.12, one arm64 (cross-compiled). Sharing one set lets the
 * suites share the download cache. `extra` adds top-level kernels.yaml keys.
 */
export function threeDebianKernels(extra = ''): string {
  return `probes:
  - name: execve
    source: probes/execve/execve.bpf.c
${extra}core:
  btfFrom:
    x86_64: { distro: debian, release: 6.1.0-50-cloud-amd64 }
    arm64: { distro: debian, release: 6.1.0-50-arm64 }
kernels:
  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64 }
  - { distro: debian, release: 6.12.117+deb13-cloud-amd64, arch: x86_64 }
  - { distro: debian, release: 6.1.0-50-arm64, arch: arm64 }
`;
}
