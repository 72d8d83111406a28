import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuilderContext, PackageRef } from '../../builders/types.js';
import { libbpfHeaders } from '../libbpf/debian-libbpf.js';
import type { Arch } from '../kernel/identity.js';
import type { ProbeSpec } from './probe-spec.js';

export interface LibbpfHeaders {
  /** The folder holding bpf_helpers.h (seen by the program as <bpf/...>); undefined: the host's. */
  readonly dir?: string;
  /** Packages the headers came from (provenance in the index). */
  readonly packages: readonly PackageRef[];
}

/**
 * Which libbpf headers a probe compiles against: the build machine's (host),
 * a Debian libbpf-dev version fetched and checked with kbuild's apt code, or
 * a folder of the project (installed headers with bpf/, or a vendored
 * libbpf/src holding bpf_helpers.h itself).
 */
export async function libbpfHeadersFor(probe: ProbeSpec, probeDir: string, arch: Arch, context: BuilderContext): Promise<LibbpfHeaders> {
  const choice = probe.libbpf;
  if (choice === 'host') return { packages: [] };
  if ('dir' in choice) {
    const base = join(probeDir, choice.dir);
    const installed = join(base, 'bpf');
    const hasInstalled = await access(join(installed, 'bpf_helpers.h')).then(() => true, () => false);
    return { dir: hasInstalled ? installed : base, packages: [] };
  }
  const fetched = await libbpfHeaders({ version: choice.debian, arch }, {
    cacheDir: context.cacheDir,
    ...(context.signal === undefined ? {} : { signal: context.signal }),
  });
  return { dir: join(fetched.dir, 'bpf'), packages: [fetched.package] };
}
