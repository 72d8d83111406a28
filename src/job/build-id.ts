import { createHash } from 'node:crypto';
import type { BuildJob } from './types.js';

/**
 * Bump when the build recipe changes in a way that changes objects (flags,
 * template, layout): every build id changes with it, so nothing stale is reused.
 * 2: project bundles, per-probe flags, -Werror=implicit-function-declaration, external BTF as its own job.
 * 3: non-CO-RE IR passed as bitcode between clang, opt and llc (its use-list order changes the code).
 */
export const BUILD_RECIPE_VERSION = 3;

/** Content address of one build: same inputs, same id, and the build is skipped. */
export function buildId(job: BuildJob, toolchain: string, templateDigest: string): string {
  const kernel = job.kind === 'core' ? job.btfKernel : job.kernel;
  const identity = {
    recipe: BUILD_RECIPE_VERSION,
    kind: job.kind,
    probe: job.probe.name,
    probeDigest: job.probe.digest,
    arch: job.kind === 'core' ? job.arch : job.kernel.arch,
    kernel: { distro: kernel.distro, release: kernel.release, arch: kernel.arch, version: kernel.version ?? null },
    toolchain,
    // The per-kernel configuration header reaches non-CO-RE objects only.
    template: job.kind === 'non-core' ? templateDigest : null,
    ...(job.kind === 'btf' ? { request: job.request } : {}),
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
