import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { KernelIdentity } from '../../kernel/identity.js';
import { IndexKernel, IndexVerification, VerifyMode } from '../../loader/index-schema.js';
import { assertSafeKey } from '../../store/keys.js';
import type { ArtifactStore } from '../../store/types.js';
import type { ProbeCheck } from '../types.js';

/**
 * Verification records: one per booted kernel and probe, beside the
 * artifacts (`verify/<arch>/<distro>/<release>/<probe>.json`). A record holds
 * the input key of what was booted; when the same objects, BTF, kernel image
 * and engine come again, its entries are reused instead of booting. Only
 * completed boots are recorded: a timeout or a boot that failed is tried again.
 */
export const VerifyRecord = z.strictObject({
  inputKey: z.string().regex(/^[0-9a-f]{64}$/),
  kernel: IndexKernel,
  probe: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  entries: z.array(
    z.strictObject({
      artifactPath: z.string().max(512),
      artifactSha256: z.string().regex(/^[0-9a-f]{64}$/),
      mode: VerifyMode,
      entry: IndexVerification,
    }),
  ),
});
export type VerifyRecord = z.infer<typeof VerifyRecord>;

export function verifyRecordKey(kernel: Pick<KernelIdentity, 'distro' | 'release' | 'arch'>, probe: string): string {
  return assertSafeKey(`verify/${kernel.arch}/${kernel.distro}/${kernel.release}/${probe}.json`);
}

export interface InputKeyParts {
  readonly engine: string;
  readonly kernel: KernelIdentity;
  /** sha256 of the kernel image package the engine boots. */
  readonly image: string;
  readonly cases: readonly { readonly mode: string; readonly objectSha256: string; readonly btfSha256?: string; readonly check?: ProbeCheck }[];
}

/** What a boot depends on, hashed: equal keys mean the boot would verify the same bytes in the same kernel. */
export function inputKey(parts: InputKeyParts): string {
  const cases = parts.cases
    .map((c) => JSON.stringify([c.mode, c.objectSha256, c.btfSha256 ?? 'cut-by-engine', c.check ?? null]))
    .sort();
  const k = parts.kernel;
  return createHash('sha256')
    .update(JSON.stringify({ engine: parts.engine, kernel: [k.distro, k.release, k.arch, k.version ?? ''], image: parts.image, cases }))
    .digest('hex');
}

/** The stored record, or undefined when absent or unreadable (unreadable means "verify again"). */
export async function readVerifyRecord(store: ArtifactStore, kernel: KernelIdentity, probe: string): Promise<VerifyRecord | undefined> {
  const bytes = await store.get(verifyRecordKey(kernel, probe));
  if (bytes === undefined) return undefined;
  try {
    const parsed = VerifyRecord.safeParse(JSON.parse(bytes.toString('utf8')));
    return parsed.success && parsed.data.probe === probe ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function writeVerifyRecord(store: ArtifactStore, record: VerifyRecord): Promise<void> {
  await store.putBytes(verifyRecordKey(record.kernel, record.probe), Buffer.from(`${JSON.stringify(VerifyRecord.parse(record), null, 2)}\n`));
}
