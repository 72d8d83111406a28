import type { Arch } from '../../kernel/identity.js';
import type { VerifyKernelRequest, VerifyKernelResult } from '../types.js';

/** What the stage needs of the QEMU engine (src/verify/verify-kernel.ts). */
export interface VerifyEngine {
  verifyKernel(request: VerifyKernelRequest): Promise<VerifyKernelResult>;
  /** true, or why this arch cannot boot here (no qemu-system-*). */
  qemuAvailable(arch: Arch): Promise<boolean | string>;
  /** Changes whenever the engine or the arch's guest loader does: part of every verify cache key. */
  engineId(arch: Arch, cacheDir: string, mirror?: string): Promise<string>;
}

/** The real engine, loaded only when a verification runs (the loader and `kbuild pick` never pull it in). */
export async function loadEngine(): Promise<VerifyEngine> {
  const engine = await import('../verify-kernel.js');
  return {
    verifyKernel: (request) => engine.verifyKernel(request),
    qemuAvailable: (arch) => engine.qemuAvailable(arch),
    engineId: async (arch, cacheDir, mirror) =>
      `engine-${engine.VERIFY_ENGINE_VERSION} guest-${(await engine.guestLoader(arch, { cacheDir, ...(mirror === undefined ? {} : { mirror }) })).sha256}`,
  };
}
