import { UnknownProbeError } from './errors.js';
import type { HostIdentity } from './host.js';
import { openIndexSource, type IndexSource, type SourceOptions } from './index-source.js';
import { pick, type PickOptions, type PickResult } from './pick.js';
import { readVerifiedIndex } from './read-index.js';
import { countingSource, readShardsFor, type KernelKey, type PickIndex } from './read-shards.js';
import { requireTrust, type IndexTrustOptions, type RequiredTrust } from './signature.js';

/**
 * What an agent reads to pick for one kernel: the store's signed manifest and
 * that kernel's shard when the store has them (a download that does not grow
 * with the fleet), else index.json as before (stores published by older
 * kbuild versions). `pick --store` and `fetch` read through here; `report`
 * and tools read the whole index with `readIndex`.
 */
export async function withPickIndex<T>(
  location: string,
  kernel: KernelKey,
  options: IndexTrustOptions & SourceOptions,
  use: (view: PickIndex, source: IndexSource) => Promise<T>,
): Promise<T> {
  requireTrust(options, location);
  const { source, indexKey } = await openIndexSource(location, options);
  try {
    // Shards are cut from index.json: a location naming another file is read as that file.
    const sharded = indexKey === 'index.json' ? await readShardsFor(source, kernel, options) : undefined;
    if (sharded !== undefined) return await use(sharded, source);
    const reads: { key: string; bytes: number }[] = [];
    const { index, trust } = await readVerifiedIndex(countingSource(source, reads), indexKey, options);
    const probes = [...new Set(index.artifacts.map((a) => a.probe))].sort();
    return await use({ index, probes, trust, location: `${source.location}/${indexKey}`, via: 'index', reads }, source);
  } finally {
    await source.close();
  }
}

/** `withPickIndex` for a pick without downloads. */
export async function readPickIndex(location: string, kernel: KernelKey, options: RequiredTrust & SourceOptions): Promise<PickIndex> {
  return withPickIndex(location, kernel, options, async (view) => view);
}

/**
 * `pick` over what `readPickIndex` read: a probe the store does not list is
 * E_UNKNOWN_PROBE either way; a probe with nothing in this kernel's shard
 * (no per-kernel object, no CO-RE object of the arch) has no choice.
 */
export function pickFrom(view: PickIndex, host: HostIdentity, probe: string, options: PickOptions = {}): PickResult {
  if (!view.probes.includes(probe)) throw new UnknownProbeError(probe, [...view.probes]);
  if (view.via === 'shards' && !view.index.artifacts.some((a) => a.probe === probe)) {
    return { host, probe, rejected: [], needs: `a build of probe "${probe}" for ${host.distro} ${host.release} ${host.arch}, or a CO-RE object for ${host.arch} (the store has neither)` };
  }
  return pick(view.index, host, probe, options);
}
