import { z } from 'zod';
import { IndexExternalBtf, IndexKernel, type IndexKernelBtf } from '@kbuild/loader';
import { assertSafeKey } from '../store/keys.js';
import { storedBytesMatch } from '../store/stored-bytes.js';
import type { ArtifactStore } from '../store/types.js';

/**
 * What an external-BTF job leaves in the store, beside the BTF blob: which
 * blob serves which CO-RE object on which kernel, or that the kernel turned
 * out to have BTF of its own (btf: auto) and needs none. A rerun with the
 * same build id whose blob is intact does nothing.
 */
export const ExternalBtfRecord = z.strictObject({
  buildId: z.string().regex(/^[0-9a-f]{64}$/),
  probe: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  kernel: IndexKernel,
  /** Absent: the kernel has its own BTF (its .config says so), nothing to make. */
  externalBtf: IndexExternalBtf.optional(),
});
export type ExternalBtfRecord = z.infer<typeof ExternalBtfRecord>;

/** btf: auto on a kernel whose .config turns out to have BTF: nothing was made, and every display says so. */
export const BTF_NOT_NEEDED = 'not needed, the kernel has BTF';

export function btfNotNeeded(record: ExternalBtfRecord | undefined): boolean {
  return record !== undefined && record.externalBtf === undefined;
}

export function btfRecordKey(probe: string, kernel: { distro: string; release: string; arch: string }): string {
  return assertSafeKey(`btf/records/${kernel.arch}/${probe}_${kernel.distro}_${kernel.release}.json`);
}

export async function readIntactBtfRecord(store: ArtifactStore, key: string): Promise<ExternalBtfRecord | undefined> {
  const bytes = await store.get(key);
  if (bytes === undefined) return undefined;
  let parsed;
  try {
    parsed = ExternalBtfRecord.safeParse(JSON.parse(bytes.toString('utf8')));
  } catch {
    return undefined;
  }
  if (!parsed.success) return undefined;
  const btf = parsed.data.externalBtf;
  return btf === undefined || (await storedBytesMatch(store, btf.btf)) ? parsed.data : undefined;
}

/** Records → the index's per-kernel view, merged over `base` (a record replaces the same kernel, probe and object). */
export function withBtfRecords(base: readonly IndexKernelBtf[], records: readonly ExternalBtfRecord[]): IndexKernelBtf[] {
  const fresh = records.flatMap((record): IndexKernelBtf[] => {
    if (record.externalBtf === undefined) return [];
    const { packageVersion: _unused, ...kernel } = record.kernel;
    return [{ kernel, objects: [{ probe: record.probe, ...record.externalBtf }] }];
  });
  return mergeKernelBtf(base, fresh);
}

/** `incoming` laid over `stored`: per kernel, an object of the same probe and CO-RE path is replaced, others kept. */
export function mergeKernelBtf(stored: readonly IndexKernelBtf[], incoming: readonly IndexKernelBtf[]): IndexKernelBtf[] {
  const byKernel = new Map<string, IndexKernelBtf>();
  const keyOf = (k: IndexKernelBtf['kernel']): string => `${k.distro}/${k.release}/${k.arch}`;
  for (const entry of [...stored, ...incoming]) {
    const key = keyOf(entry.kernel);
    const have = byKernel.get(key) ?? { kernel: entry.kernel, objects: [] };
    const replaced = new Set(entry.objects.map((o) => `${o.probe}\0${o.core}`));
    have.objects = [...have.objects.filter((o) => !replaced.has(`${o.probe}\0${o.core}`)), ...entry.objects];
    byKernel.set(key, have);
  }
  const list = [...byKernel.values()];
  for (const entry of list) entry.objects.sort((a, b) => a.core.localeCompare(b.core));
  return list.sort((a, b) => `${a.kernel.arch}/${a.kernel.release}`.localeCompare(`${b.kernel.arch}/${b.kernel.release}`));
}
