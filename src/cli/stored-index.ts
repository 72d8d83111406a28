import type { ArtifactIndex } from '@kbuild/loader';
import { IndexFormatError, parseIndex } from '@kbuild/loader/internal';
import { KbuildError } from '../errors.js';
import { INDEX_KEY } from '../store/keys.js';
import type { ArtifactStore } from '../store/types.js';

/**
 * The index a command works on (`verify`, `check`): it must exist and parse;
 * either failure is bad input (exit 2), said with the index's location.
 */
export async function requireStoredIndex(store: ArtifactStore): Promise<{ index: ArtifactIndex; where: string }> {
  const where = `${store.location}/${INDEX_KEY}`;
  const bytes = await store.get(INDEX_KEY);
  if (bytes === undefined) throw new KbuildError('E_INDEX_NOT_FOUND', `${where} does not exist; build into the store first`, { exitCode: 2 });
  try {
    return { index: parseIndex(bytes.toString('utf8'), where), where };
  } catch (err) {
    if (err instanceof IndexFormatError) throw new KbuildError(err.code, err.message, { exitCode: 2 });
    throw err;
  }
}
