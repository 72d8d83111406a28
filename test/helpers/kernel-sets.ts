import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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

/**
 * `probes/breaks` beside `probes/execve` in `work`: the execve probe plus a line that
 * only fails to compile against 6.12 headers, so one kernel fails and the others build.
 */
export async function writeBreakingProbe(work: string): Promise<void> {
  const source = await readFile(join(work, 'probes/execve/execve.bpf.c'), 'utf8');
  await cp(join(work, 'probes/execve'), join(work, 'probes/breaks'), { recursive: true });
  await writeFile(
    join(work, 'probes/breaks/execve.bpf.c'),
    `${source}\n#if defined(KBUILD_LINUX_VERSION_CODE) && KBUILD_LINUX_VERSION_CODE >= 0x060c00\nint kbuild_breaks_here = undeclared_on_612;\n#endif\n`,
  );
}
