import { createHash } from 'node:crypto';
import type { VerifyMode } from '../loader/index-schema.js';

/** Bumped when what a verification proves changes (guest loader behaviour, QEMU setup, pass criteria). */
export const VERIFY_ENGINE_VERSION = 2;

export interface VerifyIdInputs {
  readonly objectSha256: string;
  readonly mode: VerifyMode;
  /** core-external-btf: the BTF handed to libbpf; empty otherwise. */
  readonly btfSha256?: string;
  /** The kernel image package's sha256. */
  readonly imageSha256: string;
  readonly guestLoaderSha256: string;
}

/** Same inputs, same proof: a driver may skip a case whose verifyId it already has a result for. */
export function verifyId(inputs: VerifyIdInputs): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        `kbuild-verify-${VERIFY_ENGINE_VERSION}`,
        inputs.objectSha256,
        inputs.mode,
        inputs.btfSha256 ?? '',
        inputs.imageSha256,
        inputs.guestLoaderSha256,
      ]),
    )
    .digest('hex');
}
