import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { asDiskError } from './errors.js';

/**
 * Replaces `target` through a temporary file beside it (same filesystem, so
 * rename(2) is atomic): readers see the old content or the whole new one,
 * never a part, and a failed `write` leaves no temporary file behind.
 */
export async function writeAtomically(target: string, write: (tmp: string) => Promise<void>): Promise<void> {
  // A full disk is named by the file it failed to write (Node's own message names no path for a write).
  await mkdir(dirname(target), { recursive: true }).catch((err: unknown) => {
    throw asDiskError(err, dirname(target));
  });
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await write(tmp);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw asDiskError(err, target);
  }
}

export function writeFileAtomically(target: string, data: string | Uint8Array): Promise<void> {
  return writeAtomically(target, (tmp) => writeFile(tmp, data));
}
