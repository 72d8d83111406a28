import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** LINUX_VERSION_CODE of a header tree's include/generated/uapi/linux/version.h, when present. */
export async function versionCodeOf(tree: string): Promise<number | undefined> {
  const text = await readFile(join(tree, 'include/generated/uapi/linux/version.h'), 'utf8').catch(() => undefined);
  const match = text === undefined ? null : /^#define\s+LINUX_VERSION_CODE\s+([0-9]+)\s*$/m.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
