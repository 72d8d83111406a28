import { createHash } from 'node:crypto';
import { ArtifactIndex, INDEX_SCHEMA_VERSION, type IndexArtifact, type IndexFailure, type IndexKernel, type IndexVerification, type VerifyMode } from '@kbuild/loader';

/**
 * A schema-v2 index with everything the report shows: two distros, both
 * arches, a kernel without BTF served minimized BTF, a build failure, QEMU
 * results of every kind (ok, failed with a verify failure, not verifiable)
 * and kernels not verified at all. Parsed by the real schema, so it is an
 * index the farm could have written.
 */

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const k = (distro: string, release: string, arch: 'x86_64' | 'arm64'): IndexKernel => ({ distro, release, arch });

export const KERNELS = {
  bookworm: k('debian', '6.1.0-50-cloud-amd64', 'x86_64'),
  trixie: k('debian', '6.12.117+deb13-cloud-amd64', 'x86_64'),
  bookwormArm: k('debian', '6.1.0-50-arm64', 'arm64'),
  bullseye: k('debian', '5.10.0-32-cloud-amd64', 'x86_64'),
  jammy: k('ubuntu', '5.15.0-100-generic', 'x86_64'),
  nobleArm: k('ubuntu', '6.8.0-40-generic', 'arm64'),
} as const;
export const PROBES = ['execve', 'opensnoop'] as const;

const qemu = (kernel: IndexKernel, mode: VerifyMode, result: IndexVerification['result'], extra: Partial<IndexVerification> = {}): IndexVerification => ({
  method: 'qemu',
  result,
  kernel,
  mode,
  ...(result === 'ok' ? { bootedRelease: kernel.release, events: 3, seconds: 4.2 } : {}),
  ...extra,
});

function artifact(probe: string, kind: 'non-core' | 'core', kernel: IndexKernel, size: number, verification: IndexVerification[]): IndexArtifact {
  const path = kind === 'core' ? `core/${kernel.arch}/${probe}.o` : `${probe}/${kernel.arch}/${probe}_${kernel.distro}_${kernel.release}.o`;
  return {
    path,
    probe,
    kind,
    arch: kernel.arch,
    kernel,
    size,
    sha256: sha(path),
    buildId: sha(`build ${path}`),
    toolchain: 'Debian clang version 14.0.6',
    verification: [{ method: 'sha256', result: 'ok' }, ...verification],
  };
}

export interface FixtureStrings {
  /** Put into every free-text field an index can carry. */
  readonly hostile?: string;
}

export function fixtureIndex(options: FixtureStrings = {}): ArtifactIndex {
  const text = (s: string): string => (options.hostile === undefined ? s : `${s} ${options.hostile}`);
  const { bookworm, trixie, bookwormArm, bullseye, jammy, nobleArm } = KERNELS;
  const x86 = [bookworm, trixie, bullseye, jammy];
  const arm = [bookwormArm, nobleArm];
  const artifacts: IndexArtifact[] = [];
  const failures: IndexFailure[] = [];
  for (const probe of PROBES) {
    for (const kernel of [...x86, ...arm]) {
      if (probe === 'opensnoop' && kernel === trixie) continue; // build failure below
      const verification =
        kernel === nobleArm
          ? [qemu(kernel, 'non-core', 'not-verifiable', { detail: text('no kernel image package for this distro') })]
          : kernel === jammy && probe === 'opensnoop'
            ? [qemu(kernel, 'non-core', 'failed', { verifierLog: text('libbpf: prog opensnoop: -EACCES\ninvalid mem access') })]
            : kernel === bookwormArm
              ? []
              : [qemu(kernel, 'non-core', 'ok')];
      artifacts.push({ ...artifact(probe, 'non-core', kernel, 140_000 + probe.length, verification), toolchain: text('Debian clang version 14.0.6') });
    }
    const coreVerify = (kernels: IndexKernel[]) =>
      kernels.flatMap((kernel) =>
        kernel === nobleArm
          ? [qemu(kernel, 'core-kernel-btf', 'not-verifiable'), qemu(kernel, 'core-external-btf', 'not-verifiable')]
          : kernel === bookwormArm
            ? []
            : [
                qemu(kernel, 'core-kernel-btf', kernel === bullseye ? 'not-verifiable' : 'ok'),
                qemu(kernel, 'core-external-btf', probe === 'execve' && kernel === jammy ? 'failed' : 'ok'),
              ],
      );
    artifacts.push(artifact(probe, 'core', bookworm, 210_000, coreVerify(x86)));
    artifacts.push(artifact(probe, 'core', bookwormArm, 209_000, coreVerify(arm)));
  }
  failures.push({
    probe: 'opensnoop',
    kind: 'non-core',
    stage: 'build',
    arch: 'x86_64',
    kernel: trixie,
    code: 'E_COMPILE',
    message: text("clang failed compiling opensnoop.bpf.c for x86_64\nopensnoop.bpf.c:12:5: error: use of undeclared identifier 'undeclared_on_612'"),
  });
  failures.push({
    probe: 'opensnoop',
    kind: 'non-core',
    stage: 'verify',
    mode: 'non-core',
    arch: 'x86_64',
    kernel: jammy,
    code: 'E_VERIFY_FAILED',
    message: text('the kernel verifier refused opensnoop: invalid mem access'),
  });
  failures.push({
    probe: 'execve',
    kind: 'core',
    stage: 'verify',
    mode: 'core-external-btf',
    arch: 'x86_64',
    kernel: jammy,
    code: 'E_VERIFY_FAILED',
    message: text('libbpf: failed to find BTF for extern execve_ctx'),
  });
  const fullBtf = { kind: 'image' as const, size: 5_800_000, sha256: sha('full btf bullseye') };
  const kernelBtf = [
    {
      kernel: bullseye,
      objects: PROBES.map((probe) => ({
        probe,
        core: `core/x86_64/${probe}.o`,
        coreSha256: sha(`core/x86_64/${probe}.o`),
        kind: 'minimized' as const,
        btf: { path: `btf/${sha(`min ${probe}`)}.btf`, size: probe === 'execve' ? 1_200 : 2_600, sha256: sha(`min ${probe}`) },
        source: fullBtf,
        relocationCheck: { result: 'ok' as const, relocations: 40 },
      })),
    },
  ];
  return ArtifactIndex.parse({
    schemaVersion: INDEX_SCHEMA_VERSION,
    generatedAt: '2026-11-25T18:00:00.000Z',
    generator: text('kbuild 0.1.0'),
    artifacts,
    failures,
    kernelBtf,
  });
}
