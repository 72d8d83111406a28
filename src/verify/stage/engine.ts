import { KbuildError } from '../../errors.js';
import type { Arch } from '../../kernel/identity.js';
import type { VerifyKernelRequest, VerifyKernelResult } from '../types.js';

/** What the stage needs of the QEMU engine (src/verify/verify-kernel.ts). */
export interface VerifyEngine {
  verifyKernel(request: VerifyKernelRequest): Promise<VerifyKernelResult>;
  /** true, or why this arch cannot boot here (no qemu-system-*, no guest loader toolchain). */
  qemuAvailable(arch: Arch): Promise<boolean | string>;
  /** Changes whenever the engine or its guest loader does: part of every verify cache key. */
  readonly version: string;
}

/** The real engine, loaded only when a verification runs (the loader and `kbuild pick` never pull it in). */
export async function loadEngine(): Promise<VerifyEngine> {
  // Until the engine's module is on this branch the import is by URL; its shape is checked below.
  const mod = (await import(new URL('../verify-kernel.js', import.meta.url).href)) as Partial<{
    verifyKernel: VerifyEngine['verifyKernel'];
    qemuAvailable: VerifyEngine['qemuAvailable'];
    VERIFY_ENGINE_VERSION: string;
  }>;
  if (mod.verifyKernel === undefined || mod.qemuAvailable === undefined) {
    throw new KbuildError('E_VERIFY_ENGINE', 'the QEMU verify engine (src/verify/verify-kernel.ts) exports no verifyKernel/qemuAvailable');
  }
  return { verifyKernel: mod.verifyKernel, qemuAvailable: mod.qemuAvailable, version: mod.VERIFY_ENGINE_VERSION ?? 'unversioned' };
}
