import { createHash } from 'node:crypto';
import { ArtifactIndex, INDEX_SCHEMA_VERSION, type IndexArtifact, type IndexCoreCheck, type IndexFailure, type IndexKernel, type IndexKernelBtf } from '@kbuild/loader';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The CO-RE object and kernel (index 5: x86_64, predicted incompatible) where QEMU loaded what was predicted not to load. */
export const CONTRADICTED = { path: 'core/x86_64/probe-0.o', kernel: 5 } as const;

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
  // The offline CO-RE check of every CO-RE object on every kernel of its arch: every 13th kernel
  // incompatible (a renamed field; only where every probe's non-CO-RE object built, since pick refuses
  // an object predicted incompatible and the kernel would be unloadable), every 17th unknown, and QEMU
  // contradicting the first incompatible one.
  const checked = artifacts.filter((a) => a.kind === 'core').map((a) => ({
    ...a,
    coreCheck: kernels.flatMap((kernel, i): IndexCoreCheck[] => {
      if (kernel.arch !== a.arch) return [];
      const result = i % 13 === 5 && i % 20 >= 1 && i % 20 <= 10 && !unloadable.includes(kernel) ? 'incompatible' : i % 17 === 3 ? 'unknown' : 'compatible';
      return [{
        kernel, result, coreSha256: a.sha256, relocations: 120,
        ...(result === 'incompatible' ? { failures: [{ relocation: `tp_btf/sys_enter#${i}`, kind: 'byte_off', type: 'struct module', field: 'core_layout.base' }], detail: '1 CO-RE relocation cannot resolve on this kernel' } : {}),
        ...(result === 'unknown' ? { detail: 'no BTF for this kernel: no image package' } : {}),
      }];
    }),
    ...(a.path === CONTRADICTED.path ? { verification: [...a.verification, { method: 'qemu' as const, result: 'ok' as const, kernel: kernels[CONTRADICTED.kernel], mode: 'core-kernel-btf' as const }] } : {}),
  }));
  artifacts.splice(0, artifacts.length, ...artifacts.filter((a) => a.kind !== 'core'), ...checked);
  const index = ArtifactIndex.parse({ schemaVersion: INDEX_SCHEMA_VERSION, generatedAt: '2026-11-25T18:00:00.000Z', generator: 'kbuild scale fixture', artifacts, failures, kernelBtf });
  return { index, unloadable };
}
