import { readFile } from 'node:fs/promises';
import { ArtifactIndex } from './index-schema.js';

export class IndexFormatError extends Error {
  readonly code = 'E_INDEX_FORMAT';
}

export function parseIndex(text: string, source: string): ArtifactIndex {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new IndexFormatError(`${source}: not JSON (${(err as Error).message})`);
  }
  const parsed = ArtifactIndex.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.map(String).join('.') ?? '';
    throw new IndexFormatError(`${source}: not a kbuild index: ${where === '' ? '' : `${where}: `}${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export async function readIndexFile(path: string): Promise<ArtifactIndex> {
  return parseIndex(await readFile(path, 'utf8'), path);
}
