import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';

/** The kernel the stage and CLI verify tests boot: one x86_64 Debian kernel (the engine tests cover arm64). */
export const KERNEL = { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' } as const;

/**
 * A probe every compiler accepts and every verifier rejects: it indexes the
 * counter map's value with a random, unbounded number.
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

const HEAD = `core:
  btfFrom:
    x86_64: { distro: ${KERNEL.distro}, release: ${KERNEL.release} }
kernels:
  - { distro: ${KERNEL.distro}, release: ${KERNEL.release}, arch: ${KERNEL.arch} }
`;

/**
 * `work`/probes with the shipped execve probe and the broken one, and two
 * kernels files: `kernels.yaml` (both probes) and `execve.yaml` (execve only).
 */
export async function writeVerifyFixtures(work: string): Promise<void> {
  await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
  await mkdir(join(work, 'probes', 'broken'), { recursive: true });
  await writeFile(join(work, 'probes', 'broken', 'broken.bpf.c'), BROKEN_PROBE);
  const execve = `  - name: execve\n    source: probes/execve/execve.bpf.c\n`;
  // Its counter map is not <probe>_count: the check names it.
  const broken = `  - name: broken\n    source: probes/broken/broken.bpf.c\n    verify: { counterMap: execve_count }\n`;
  await writeFile(join(work, 'kernels.yaml'), `probes:\n${execve}${broken}${HEAD}`);
  await writeFile(join(work, 'execve.yaml'), `probes:\n${execve}${HEAD}`);
}
