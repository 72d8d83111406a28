import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { Trust, writeJsonAtomic, type PackageStanza } from './packages-index.js';

/**
 * What a kernel resolved to in an apt archive (exact packages: name, version,
 * sha256, pool path, suite), remembered on disk: pool files never change for
 * a given version, so a resolved kernel needs no index again.
 */

export const ResolvedPackage = z.object({
  name: z.string(),
  version: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  filename: z.string(),
  suite: z.string(),
  /** Archive root `filename` is under, when the suite has its own (Debian's -security); else the resolution's mirror. */
  mirror: z.string().optional(),
});
export type ResolvedPackage = z.infer<typeof ResolvedPackage>;

export const Resolution = z.object({
  release: z.string(),
  arch: z.string(),
  mirror: z.string(),
  /** Trust of the index the answer came from: an unsigned answer never serves a verifying run. */
  trust: Trust,
});

export function toRef(stanza: PackageStanza, suite: string, mirror?: string): ResolvedPackage {
  const { package: name, version, sha256, size, filename } = stanza;
  return { name, version, sha256, size, filename, suite, ...(mirror === undefined ? {} : { mirror }) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface RememberOptions<T> {
  readonly refresh?: boolean;
  readonly allowUnsigned: boolean;
  /** Whether a stored answer still holds (e.g. its Release has not expired); computed again when not. */
  readonly stillValid?: (value: T) => boolean;
}

/** The answer stored at `path` when it parses and its trust suffices, else `compute()` stored there. */
export async function remembered<T extends { trust: Trust }>(
  path: string,
  schema: z.ZodType<T>,
  options: RememberOptions<T>,
  compute: () => Promise<T>,
): Promise<{ value: T; fromCache: boolean }> {
  if (options.refresh !== true) {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    const parsed = text === undefined ? undefined : schema.safeParse(parseJson(text));
    const trusted = parsed?.success === true && (parsed.data.trust === 'signed' || options.allowUnsigned);
    if (trusted && (options.stillValid?.(parsed.data) ?? true)) {
      return { value: parsed.data, fromCache: true };
    }
  }
  const value = await compute();
  await writeJsonAtomic(path, value);
  return { value, fromCache: false };
}
