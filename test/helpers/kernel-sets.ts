import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The real Debian kernels the end-to-end tests build: one amd64 cloud
 * flavour, one 6.12, one arm64 (cross-compiled). Sharing one set lets the
 * suites share the download cache. `extra` adds top-level kernels.yaml keys.
 * They say `btf: true` (what their .config says): these suites are not about
 * external BTF, so their job counts hold only the objects.
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
  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64, btf: true }
  - { distro: debian, release: 6.12.117+deb13-cloud-amd64, arch: x86_64, btf: true }
  - { distro: debian, release: 6.1.0-50-arm64, arch: arm64, btf: true }
`;
}

/** The smallest real build: the execve probe, non-CO-RE only, for one Debian amd64 kernel. */
export function oneDebianNonCore(): string {
  return `probes:
  - name: execve
    source: probes/execve/execve.bpf.c
    builds: [non-core]
kernels:
  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64, btf: true }
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

/**
 * A probe every verifier rejects but every compiler accepts: it indexes the
 * counter map's value with a random number it never bounds.
 */
const BROKEN_PROBE = `// SPDX-License-Identifier: GPL-2.0
#ifdef CORE
#include "vmlinux.h"
#else
#include "kbuild_config.h"
#include <linux/types.h>
#include <uapi/linux/bpf.h>
#endif
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} execve_count SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int broken(void *ctx)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&execve_count, &zero);
	if (count) {
		__u32 i = bpf_get_prandom_u32();
		count[i] += 1;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;

/** `work`/probes/broken/broken.bpf.c: BROKEN_PROBE, for the QEMU verify tests (engine and stage). */
export async function writeBrokenProbe(work: string): Promise<void> {
  await mkdir(join(work, 'probes', 'broken'), { recursive: true });
  await writeFile(join(work, 'probes', 'broken', 'broken.bpf.c'), BROKEN_PROBE);
}
