import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Big downloads (header packages, kernel images) live outside any clone so a
 * second run, or a fresh clone on the same machine, reuses them.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['KBUILD_CACHE_DIR'];
  if (configured !== undefined && configured !== '') return configured;
  if (process.getuid?.() === 0) return '/var/cache/kbuild';
  return join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'kbuild');
}
