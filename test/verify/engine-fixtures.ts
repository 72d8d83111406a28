import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';
import { writeBrokenProbe } from '../helpers/kernel-sets.js';
import type { Arch, KernelIdentity } from '../../src/kernel/identity.js';
import type { VerifyMode } from '../../src/loader/index-schema.js';
import { liveMembers } from '../../src/verify/process-group.js';
import type { VerifyCase } from '../../src/verify/types.js';

/** The real Debian kernels the engine tests boot, one per arch. */
export const KERNELS: Readonly<Record<Arch, KernelIdentity>> = {
  x86_64: { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' },
  arm64: { distro: 'debian', release: '6.1.0-50-arm64', arch: 'arm64' },
};

export const CHECK = { event: { trigger: 'execve', count: 5, counterMap: 'execve_count' } } as const;

const KERNELS_YAML = `probes:
  - name: execve
    source: probes/execve/execve.bpf.c
  - name: broken
    source: probes/broken/broken.bpf.c
core:
  btfFrom:
    x86_64: { distro: debian, release: ${KERNELS.x86_64.release} }
    arm64: { distro: debian, release: ${KERNELS.arm64.release} }
kernels:
  - { distro: debian, release: ${KERNELS.x86_64.release}, arch: x86_64, btf: true }
  - { distro: debian, release: ${KERNELS.arm64.release}, arch: arm64, btf: true }
`;

/**
 * Builds the shipped execve probe and the broken one for both kernels with
 * \`kbuild build\`, into \`work\`/out, without its verify stage (the test helper
 * passes --no-verify): these tests drive the engine directly.
 */
export async function buildArtifacts(work: string): Promise<string> {
  await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
  await writeBrokenProbe(work);
  await writeFile(join(work, 'kernels.yaml'), KERNELS_YAML);
  const out = join(work, 'out');
  const result = await kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--out', out, '--json'], { cwd: work });
  if (result.exitCode !== 0) throw new Error(`kbuild build failed (${result.exitCode}): ${result.stderr}${result.stdout}`);
  return out;
}

/** One case: the non-CO-RE object of the kernel, or the arch's CO-RE object. */
export async function verifyCase(out: string, probe: string, kernel: KernelIdentity, mode: VerifyMode): Promise<VerifyCase> {
  const artifactPath = mode === 'non-core' ? `${probe}/${kernel.arch}/${probe}_${kernel.distro}_${kernel.release}.o` : `core/${kernel.arch}/${probe}.o`;
  const objectFile = join(out, artifactPath);
  const objectSha256 = createHash('sha256').update(await readFile(objectFile)).digest('hex');
  return { probe, mode, objectFile, objectSha256, artifactPath, check: CHECK };
}

/** True while any process of the group (QEMU or its timeout(1) wrapper) runs. */
export async function groupRuns(pgid: number): Promise<boolean> {
  return (await liveMembers(pgid)).length > 0;
}
