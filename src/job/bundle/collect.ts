import { lstat, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import { ConfigError } from '../../errors.js';

/**
 * Everything under a probe's root travels to its builds: subfolders, its own
 * vmlinux.h, a vendored libbpf, Makefiles. The tree is hostile input (it may
 * be a downloaded tarball), so sizes are checked with lstat before anything
 * is read, and a symlink travels only when it resolves inside the root.
 */

export interface BundleLimits {
  readonly maxBytes: number;
  readonly maxFiles: number;
}

export const DEFAULT_LIMITS: BundleLimits = { maxBytes: 64 * 1024 * 1024, maxFiles: 20_000 };

export interface BundleFile {
  /** Relative to the root, "/"-separated. */
  readonly path: string;
  readonly kind: 'file' | 'symlink';
  /** Files: contents; symlinks: their (relative, inside-root) target. */
  readonly data: Buffer | string;
  readonly executable: boolean;
}

export interface CollectedTree {
  readonly files: readonly BundleFile[];
  readonly bytes: number;
}

/** Never part of a build; skipped so a checkout can be a root as it is. */
const ALWAYS_SKIPPED = new Set(['.git', '.hg', '.svn']);

/** `where` names the kernels.yaml field in errors (e.g. `kernels.yaml:3: probes[0].root`). */
export async function collectTree(root: string, where: string, options: { exclude?: readonly string[]; limits?: BundleLimits } = {}): Promise<CollectedTree> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const excluded = (options.exclude ?? []).length === 0 ? () => false : picomatch([...(options.exclude ?? [])], { dot: true });
  const realRoot = await realpath(root).catch(() => {
    throw new ConfigError(`${where}: folder ${root} does not exist`);
  });
  const files: BundleFile[] = [];
  let bytes = 0;
  const tooBig = (path: string, what: string): ConfigError =>
    new ConfigError(`${where}: ${root} holds more than ${what} (reached at ${path}); list what the build does not need under \`exclude\``, {
      suggestions: [`Point \`root\` at the project's folder that holds the BPF sources, or raise nothing: the limit protects every worker`],
    });

  const walk = async (rel: string): Promise<void> => {
    const entries = (await readdir(join(root, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (ALWAYS_SKIPPED.has(entry.name) || excluded(path)) continue;
      if (/[\0-\x1f\x7f\\]/.test(entry.name)) throw new ConfigError(`${where}: file name ${JSON.stringify(path)} has control characters or a backslash`);
      const abs = join(root, path);
      const info = await lstat(abs);
      if (info.isDirectory()) {
        await walk(path);
        continue;
      }
      if (files.length >= limits.maxFiles) throw tooBig(path, `${limits.maxFiles} files`);
      if (info.isSymbolicLink()) {
        files.push({ path, kind: 'symlink', data: await insideLink(abs, path, realRoot, where), executable: false });
      } else if (info.isFile()) {
        bytes += info.size;
        if (bytes > limits.maxBytes) throw tooBig(path, `${Math.round(limits.maxBytes / 1024 / 1024)} MiB`);
        files.push({ path, kind: 'file', data: await readFile(abs), executable: (info.mode & 0o111) !== 0 });
      }
      // Sockets, fifos and devices never travel.
    }
  };
  await walk('');
  return { files, bytes };
}

/** A link's target, made relative, when it resolves inside the root; else the root leaks and the probe is refused. */
async function insideLink(abs: string, path: string, realRoot: string, where: string): Promise<string> {
  const resolved = await realpath(abs).catch(() => undefined);
  const rel = resolved === undefined ? undefined : relative(realRoot, resolved);
  if (rel === undefined || rel === '' || rel.startsWith('..') || rel.startsWith(sep) || rel.includes(`..${sep}`)) {
    const target = await readlink(abs).catch(() => '?');
    throw new ConfigError(`${where}: symlink ${path} -> ${target} ${resolved === undefined ? 'is broken' : 'leaves the probe root'}; only links inside the root travel`);
  }
  // Re-expressed relative to the link's own folder, so it resolves the same way once unpacked.
  return posix.relative(posix.dirname(path), rel.split(sep).join('/')) || '.';
}

/** The root of a probe must be a folder inside the kernels file's folder, also after following links. */
export async function assertInside(baseDir: string, path: string, where: string): Promise<string> {
  const [realBase, real] = await Promise.all([realpath(baseDir), realpath(path).catch(() => undefined)]);
  if (real === undefined) throw new ConfigError(`${where}: ${path} does not exist`);
  const rel = relative(realBase, real);
  if (rel.startsWith('..') || rel.startsWith(sep)) {
    throw new ConfigError(`${where}: ${path} resolves to ${real}, outside the kernels file's folder ${realBase}`);
  }
  return real;
}
