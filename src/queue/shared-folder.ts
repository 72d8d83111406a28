import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { KbuildError } from '../errors.js';

/**
 * A folder a farm job reads or writes (a folder store, a btf.archive folder),
 * with a token the submitter wrote into it. Workers on other machines see the
 * same path only through a shared mount: a worker that does not find the token
 * there sees another folder (its own disk), and must not build into it.
 */
export const SharedFolder = z.strictObject({
  role: z.enum(['store', 'btf-archive']),
  path: z.string().regex(/^\/[^\0]*$/).max(4096),
  token: z.string().regex(/^[0-9a-f]{32}$/),
});
export type SharedFolder = z.infer<typeof SharedFolder>;

const TOKENS = '.kbuild-share';
/** Tokens of submissions this old are removed by the next submit (their jobs are long done or failed). */
const TOKEN_MAX_AGE_MS = 30 * 24 * 3600 * 1000;

const what = (role: SharedFolder['role']): string => (role === 'store' ? 'folder store' : 'btf.archive folder');

/** Writes a fresh token into `path` for one submission; many submitters of one folder never overwrite each other's. */
export async function markShared(role: SharedFolder['role'], path: string): Promise<SharedFolder> {
  const token = randomBytes(16).toString('hex');
  const dir = join(path, TOKENS);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, token), `${JSON.stringify({ token, host: hostname(), pid: process.pid, at: new Date().toISOString() })}\n`, { flag: 'wx' });
  } catch (err) {
    throw new KbuildError('E_SHARE_TOKEN', `cannot write a share token into the ${what(role)} ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}): nothing could tell whether workers see it`, {
      suggestions: [role === 'store' ? 'Use an S3 store (--store s3://bucket/prefix) or a folder this user can write' : 'Make the btf.archive folder writable for the submitter, or serve it over http(s)'],
    });
  }
  await pruneTokens(dir);
  return { role, path, token };
}

async function pruneTokens(dir: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(dir).catch(() => [])) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info !== undefined && now - info.mtimeMs > TOKEN_MAX_AGE_MS) await rm(join(dir, name), { force: true });
  }
}

/** Whether this machine sees the folder the submitter wrote the token into. */
export async function seesFolder(folder: SharedFolder): Promise<boolean> {
  const text = await readFile(join(folder.path, TOKENS, folder.token), 'utf8').catch(() => '');
  try {
    return (JSON.parse(text) as { token?: unknown }).token === folder.token;
  } catch {
    return false;
  }
}

/** Fails fast, before anything is built or written, when this worker would use a folder of its own instead of the submitter's. */
export async function assertSeesFolders(folders: readonly SharedFolder[] | undefined, worker: string): Promise<void> {
  for (const folder of folders ?? []) {
    if (await seesFolder(folder)) continue;
    const code = folder.role === 'store' ? 'E_STORE_NOT_SHARED' : 'E_BTF_ARCHIVE_NOT_SHARED';
    throw new KbuildError(code, `worker ${worker} cannot see ${what(folder.role)} ${folder.path} that the submitter wrote (no share token ${folder.token.slice(0, 8)}… there): it would use a folder of its own; use an S3 store or a shared mount`, {
      suggestions: ['Use an S3 store (--store s3://bucket/prefix), or mount the folder at the same path on every worker'],
    });
  }
}
