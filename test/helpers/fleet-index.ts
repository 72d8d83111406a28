import { createHash } from 'node:crypto';
import { ArtifactIndex, INDEX_SCHEMA_VERSION, type IndexArch, type IndexArtifact, type IndexFailure, type IndexKernel, type IndexKernelBtf } from '@kbuild/loader';
import type { ArtifactStore } from '../../src/store/types.js';

/**
 * A synthetic fleet index shaped like a real build's: per kernel and probe a
 * non-CO-RE object with its header packages, build configuration and QEMU
 * entry; per arch and probe a CO-RE object booted in every kernel of its arch;
 * every fifth kernel without BTF (external BTF per CO-RE object); every
 * seventh build of a probe failed; one QEMU verification failed with a log.
 */
export interface FleetKernel extends IndexKernel {
  readonly hasBtf: boolean;
}

export interface Fleet {
  readonly index: ArtifactIndex;
  readonly kernels: readonly FleetKernel[];
  /** The bytes of every object and BTF blob the index lists (what fetch checks). */
  readonly blobs: ReadonlyMap<string, Buffer>;
}

const sha = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

export function fleetKernels(count: number): FleetKernel[] {
  return Array.from({ length: count }, (_, i) => {
    const arch: IndexArch = i % 3 === 2 ? 'arm64' : 'x86_64';
    const hasBtf = i % 5 !== 4;
    const flavour = arch === 'arm64' ? 'arm64' : 'cloud-amd64';
    const release = hasBtf ? `6.1.0-${i}-${flavour}` : `5.10.0-${i}-${flavour}`;
    return { distro: 'debian', release, arch, packageVersion: hasBtf ? `6.1.${100 + i}-1` : `5.10.${100 + i}-1`, hasBtf };
  });
}

export function fleetIndex(kernelCount: number, probes: readonly string[]): Fleet {
  const kernels = fleetKernels(kernelCount);
  const blobs = new Map<string, Buffer>();
  const blob = (path: string): { size: number; sha256: string } => {
    const bytes = Buffer.from(`\x7fELF object ${path}\n`.repeat(8));
    blobs.set(path, bytes);
    return { size: bytes.length, sha256: sha(bytes) };
  };
  const artifacts: IndexArtifact[] = [];
  const failures: IndexFailure[] = [];
  const kernelBtf = new Map<string, IndexKernelBtf>();
  const id = (k: FleetKernel): IndexKernel => ({ distro: k.distro, release: k.release, arch: k.arch, ...(k.packageVersion === undefined ? {} : { packageVersion: k.packageVersion }) });
  for (const [p, probe] of probes.entries()) {
    for (const arch of ['x86_64', 'arm64'] as const) {
      const path = `core/${arch}/${probe}.o`;
      const ofArch = kernels.filter((k) => k.arch === arch);
      if (ofArch.length === 0) continue;
      const core: IndexArtifact = {
        path, probe, kind: 'core', arch, kernel: id(ofArch[0] as FleetKernel), ...blob(path), buildId: sha(`build ${path}`), toolchain: 'clang 14.0.6, llc 14.0.6',
        sources: [{ name: `linux-image-${(ofArch[0] as FleetKernel).release}-unsigned`, version: '6.1.100-1', sha256: sha(`image ${arch}`) }],
        verification: [
          { method: 'sha256', result: 'ok' },
          ...ofArch.map((k) => ({ method: 'qemu' as const, result: 'ok' as const, kernel: id(k), mode: k.hasBtf ? 'core-kernel-btf' as const : 'core-external-btf' as const, bootedRelease: k.release, events: 3, verifyId: sha(`v ${path} ${k.release}`), seconds: 5.2 })),
        ],
      };
      artifacts.push(core);
      for (const k of ofArch.filter((x) => !x.hasBtf)) {
        const btfPath = `btf/${sha(`btf ${probe} ${k.release}`)}.btf`;
        const entry = kernelBtf.get(k.release) ?? { kernel: id(k), objects: [] };
        entry.objects.push({
          probe, core: path, coreSha256: core.sha256, kind: 'minimized', btf: { path: btfPath, ...blob(btfPath) },
          source: { kind: 'image', size: 4_200_000, sha256: sha(`full ${k.release}`), package: { name: `linux-image-${k.release}-unsigned`, version: k.packageVersion ?? '1', sha256: sha(`pkg ${k.release}`) } },
          relocationCheck: { result: 'ok', relocations: 646 },
        });
        kernelBtf.set(k.release, entry);
      }
    }
    for (const [i, k] of kernels.entries()) {
      if ((i + p) % 7 === 6) {
        failures.push({ probe, kind: 'non-core', stage: 'build', arch: k.arch, kernel: id(k), code: 'E_COMPILE', message: `clang failed\n${'error: something\n'.repeat(40)}` });
        continue;
      }
      const path = `${probe}/${k.arch}/${probe}_${k.distro}_${k.release}.o`;
      const failedQemu = i === 3 && p === 0;
      artifacts.push({
        path, probe, kind: 'non-core', arch: k.arch, kernel: id(k), ...blob(path), buildId: sha(`build ${path}`), toolchain: 'clang 14.0.6, llc 14.0.6, opt 14.0.6',
        sources: [
          { name: `linux-headers-${k.release}`, version: k.packageVersion ?? '1', sha256: sha(`h ${k.release}`) },
          { name: `linux-headers-${k.release.replace(/-[a-z0-9-]+$/, '')}-common`, version: k.packageVersion ?? '1', sha256: sha(`c ${k.release}`) },
        ],
        buildConfig: { linuxVersionCode: 393_472 + i, maxPathComponents: 80, defines: { HAVE_TASK_STRUCT_STATE: '1' } },
        verification: [
          { method: 'sha256', result: 'ok' },
          failedQemu
            ? { method: 'qemu', result: 'failed', kernel: id(k), mode: 'non-core', detail: 'load failed: Permission denied: R0 unbounded memory access\nmore', verifierLog: 'verifier log line\n'.repeat(500), firstError: 'R0 unbounded memory access', verifyId: sha(`v ${path}`), seconds: 6.1 }
            : { method: 'qemu', result: 'ok', kernel: id(k), mode: 'non-core', bootedRelease: k.release, events: 3, verifyId: sha(`v ${path}`), seconds: 4.4 },
        ],
      });
    }
  }
  artifacts.sort((a, b) => a.path.localeCompare(b.path));
  const index = ArtifactIndex.parse({ schemaVersion: INDEX_SCHEMA_VERSION, generatedAt: new Date().toISOString(), generator: 'kbuild fleet fixture', artifacts, failures, kernelBtf: [...kernelBtf.values()] });
  return { index, kernels, blobs };
}

/** Puts every object and BTF blob of the fleet in the store (before its index is published, as a build does). */
export async function storeFleetBlobs(store: ArtifactStore, fleet: Fleet): Promise<void> {
  for (const [path, bytes] of fleet.blobs) await store.putBytes(path, bytes);
}
