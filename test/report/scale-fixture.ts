import { createHash } from 'node:crypto';
import { ArtifactIndex, INDEX_SCHEMA_VERSION, type IndexArtifact, type IndexFailure, type IndexKernel, type IndexKernelBtf } from '@kbuild/loader';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * A synthetic index of `kernelCount` kernels × `probeCount` probes, as large as
 * a real fleet's: every 20th cell a failed build, every 7th kernel without BTF
 * (served minimized BTF), QEMU ok everywhere else, and every 50th kernel left
 * with nothing loadable (its builds failed and it has no BTF nor an external one).
 */
export function scaleIndex(kernelCount: number, probeCount: number): { index: ArtifactIndex; unloadable: IndexKernel[] } {
  const kernels: IndexKernel[] = Array.from({ length: kernelCount }, (_, i) => ({
    distro: ['debian', 'ubuntu', 'rocky', 'amzn'][i % 4] ?? 'debian',
    release: `${5 + (i % 2)}.${i % 20}.0-${i}-generic`,
    arch: i % 3 === 0 ? 'arm64' : 'x86_64',
  }));
  const unloadable = kernels.filter((_, i) => i % 50 === 7);
  const artifacts: IndexArtifact[] = [];
  const failures: IndexFailure[] = [];
  const kernelBtf: IndexKernelBtf[] = [];
  const probes = Array.from({ length: probeCount }, (_, p) => `probe-${p}`);
  for (const probe of probes) {
    for (const arch of ['x86_64', 'arm64'] as const) {
      const path = `core/${arch}/${probe}.o`;
      artifacts.push({ path, probe, kind: 'core', arch, kernel: { distro: 'debian', release: '6.1.0-50-generic', arch }, size: 210_000, sha256: sha(path), buildId: sha(`b${path}`), toolchain: 'clang 14', verification: [{ method: 'sha256', result: 'ok' }] });
    }
  }
  kernels.forEach((kernel, i) => {
    const lost = unloadable.includes(kernel);
    const withoutBtf = lost || i % 7 === 0;
    probes.forEach((probe, p) => {
      const path = `${probe}/${kernel.arch}/${probe}_${kernel.distro}_${kernel.release}.o`;
      if (lost || (i + p) % 20 === 0) {
        failures.push({ probe, kind: 'non-core', stage: 'build', arch: kernel.arch, kernel, code: 'E_COMPILE', message: `clang failed\n${'error: x\n'.repeat(5)}` });
        return;
      }
      artifacts.push({
        path, probe, kind: 'non-core', arch: kernel.arch, kernel, size: 140_000 + p, sha256: sha(path), buildId: sha(`b${path}`), toolchain: 'clang 14',
        verification: [{ method: 'sha256', result: 'ok' }, { method: 'qemu', result: 'ok', kernel, mode: 'non-core', events: 3, seconds: 4 }],
      });
    });
    if (!withoutBtf) return;
    const source = { kind: 'image' as const, size: 5_800_000, sha256: sha(`full ${kernel.release}`) };
    kernelBtf.push({
      kernel,
      objects: lost
        ? []
        : probes.map((probe) => {
            const core = `core/${kernel.arch}/${probe}.o`;
            const btfSha = sha(`min ${kernel.release} ${probe}`);
            return { probe, core, coreSha256: sha(core), kind: 'minimized' as const, btf: { path: `btf/${btfSha}.btf`, size: 1_500, sha256: btfSha }, source, relocationCheck: { result: 'ok' as const, relocations: 40 } };
          }),
    });
  });
  const index = ArtifactIndex.parse({ schemaVersion: INDEX_SCHEMA_VERSION, generatedAt: '2026-11-25T18:00:00.000Z', generator: 'kbuild scale fixture', artifacts, failures, kernelBtf });
  return { index, unloadable };
}
