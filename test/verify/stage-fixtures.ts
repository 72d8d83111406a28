import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';
import { writeBrokenProbe } from '../helpers/kernel-sets.js';

/** The kernel the stage and CLI verify tests boot: one x86_64 Debian kernel (the engine tests cover arm64). */
export const KERNEL = { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' } as const;

const HEAD = `core:
  btfFrom:
    x86_64: { distro: ${KERNEL.distro}, release: ${KERNEL.release} }
kernels:
  - { distro: ${KERNEL.distro}, release: ${KERNEL.release}, arch: ${KERNEL.arch}, btf: true }
`;

/**
 * `work`/probes with the shipped execve probe and the broken one, and two
 * kernels files: `kernels.yaml` (both probes) and `execve.yaml` (execve only).
 */
export async function writeVerifyFixtures(work: string): Promise<void> {
  await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
  await writeBrokenProbe(work);
  const execve = `  - name: execve\n    source: probes/execve/execve.bpf.c\n`;
  // Its counter map is not <probe>_count: the check names it.
  const broken = `  - name: broken\n    source: probes/broken/broken.bpf.c\n    verify: { counterMap: execve_count }\n`;
  await writeFile(join(work, 'kernels.yaml'), `probes:\n${execve}${broken}${HEAD}`);
  await writeFile(join(work, 'execve.yaml'), `probes:\n${execve}${HEAD}`);
}
