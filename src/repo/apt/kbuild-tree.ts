import { lstat, readFile, readdir, readlink, symlink, unlink, writeFile } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { extractDebPrefix, safeSymlinkTarget } from '../../archive/deb.js';
import { exists, linkTree } from '../../cache/content-cache.js';
import { ArchiveError } from '../../errors.js';

/**
 * Lays out a kernel build tree as dpkg would install it (usr/src/linux-headers-*
 * beside usr/lib/linux-kbuild-*), but inside one folder that needs nothing
 * outside itself: `make -C` runs there on the host and, mounted read-only, in
 * a builder container. Packages are hostile input, so every link must stay in
 * the tree; the absolute paths Debian writes (links to /usr/lib/linux-kbuild-X,
 * the flavour Makefile's `include /usr/src/...`) become relative ones.
 */

export interface BuildTreeParts {
  /** An extracted header tree (holds usr/src/...), shared through hard links. */
  readonly headerRoot: string;
  /** The build-system tools package (.deb) whose usr/lib/ completes the tree. */
  readonly kbuildDeb: string;
  /** usr/src/<flavourDir> is the build folder. */
  readonly flavourDir: string;
}

/** Links the extraction dropped for being absolute: rewritten when their target is inside the tree, else refused. */
async function rewriteAbsoluteLinks(dest: string, dropped: readonly string[]): Promise<void> {
  for (const entry of dropped) {
    const [rel, target] = entry.split(' -> ');
    if (rel === undefined || target === undefined || !target.startsWith('/') || target.includes('\0')) {
      throw new ArchiveError(`build tree: link ${entry} leaves the tree`);
    }
    const inside = posix.normalize(target).slice(1);
    const rewritten = posix.relative(posix.dirname(rel), inside) || '.';
    if (!/^usr\/(lib|src)\//.test(inside) || !safeSymlinkTarget(rel, rewritten)) {
      throw new ArchiveError(`build tree: link ${rel} -> ${target} points outside usr/lib and usr/src`);
    }
    await symlink(rewritten, join(dest, rel));
  }
}

/** Every link in the tree obeys the extraction rule (leading ".." only, never above the root). */
async function checkLinks(root: string, dir = root): Promise<number> {
  let count = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) count += await checkLinks(root, path);
    else if (entry.isSymbolicLink()) {
      const rel = relative(root, path);
      const target = await readlink(path);
      if (!safeSymlinkTarget(rel, target)) throw new ArchiveError(`build tree: link ${rel} -> ${target} leaves the tree`);
      count++;
    }
  }
  return count;
}

/**
 * Debian's flavour Makefile is one line, `include /usr/src/linux-headers-<abi>-common/Makefile`:
 * made relative to the Makefile itself. Replaced, not edited: its inode is shared with the header tree.
 */
async function relativeIncludes(makefile: string, srcDir: string): Promise<void> {
  const text = await readFile(makefile, 'utf8');
  const lines = await Promise.all(
    text.split('\n').map(async (line) => {
      const match = /^(\s*-?include\s+)\/usr\/src\/([A-Za-z0-9._+-]+)\/(\S+)\s*$/.exec(line);
      if (match === null) {
        if (line.includes('/usr/src/')) throw new ArchiveError(`build tree: ${makefile} names /usr/src/ in a line kbuild cannot relocate: ${line}`);
        return line;
      }
      const [, keyword, dir, file] = match;
      if (dir === undefined || !(await exists(join(srcDir, dir)))) throw new ArchiveError(`build tree: ${makefile} includes ${line.trim()}, absent from the tree`);
      return `${keyword}$(dir $(lastword $(MAKEFILE_LIST)))../${dir}/${file}`;
    }),
  );
  await unlink(makefile);
  await writeFile(makefile, lines.join('\n'));
}

/** Fills `dest` (an empty cache entry folder); returns the build folder. */
export async function layoutBuildTree(dest: string, parts: BuildTreeParts): Promise<string> {
  // The header tree links to its ABI's shared common tree; a build tree holds its own hard-linked copy.
  await linkTree(parts.headerRoot, dest, { expandSharedLinks: true });
  const stats = await extractDebPrefix(parts.kbuildDeb, 'usr/lib/', dest);
  await rewriteAbsoluteLinks(dest, stats.droppedLinks);
  await checkLinks(dest);
  const srcDir = join(dest, 'usr', 'src');
  const buildDir = join(srcDir, parts.flavourDir);
  await relativeIncludes(join(buildDir, 'Makefile'), srcDir);
  // The links the headers make into the tools package must now resolve.
  for (const needed of ['scripts/Makefile.build', 'scripts/basic/fixdep', 'scripts/mod/modpost']) {
    const found = await lstat(join(buildDir, needed)).catch(() => undefined);
    if (found === undefined) throw new ArchiveError(`build tree: ${parts.flavourDir}/${needed} does not resolve (build-system tools package incomplete?)`);
  }
  return buildDir;
}
