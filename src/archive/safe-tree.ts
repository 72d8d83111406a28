import { lstat, mkdir, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { ArchiveError } from '../errors.js';

/**
 * Safe extraction shared by every package format (.deb's tar, .rpm's cpio):
 * entry names and link targets are hostile; nothing is ever written outside
 * the destination, and never through a symlink.
 */

export interface ExtractStats {
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  /** Links whose target is absolute or leaves the destination: not created. */
  droppedLinks: string[];
  /** Devices and fifos: never created. */
  skippedSpecial: number;
}

/** Normalizes a tar entry name ("./usr/src/x") to "usr/src/x"; refuses absolute and ".." paths. */
export function entryPath(raw: string): string {
  if (raw.includes('\0')) throw new ArchiveError(`archive entry name contains NUL: ${JSON.stringify(raw)}`);
  if (raw.startsWith('/')) throw new ArchiveError(`archive entry has an absolute path: ${raw}`);
  const parts = raw.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw new ArchiveError(`archive entry escapes with "..": ${raw}`);
  return parts.join('/');
}

/**
 * Accepts a relative symlink target only when its ".." steps all come first
 * and stay inside the destination. Since every kept link obeys this and no
 * entry is written through a link, no chain of links can leave the destination.
 */
export function safeSymlinkTarget(linkPath: string, target: string): boolean {
  if (target === '' || target.startsWith('/') || target.includes('\0')) return false;
  const parts = target.split('/').filter((part) => part !== '' && part !== '.');
  const ups = parts.findIndex((part) => part !== '..');
  const leading = ups === -1 ? parts.length : ups;
  if (parts.slice(leading).includes('..')) return false;
  const depth = linkPath.split('/').length - 1;
  return leading <= depth;
}

export function inPrefix(path: string, prefix: string): boolean {
  return prefix === '' || path === prefix || path.startsWith(`${prefix}/`);
}

const parentOf = (rel: string): string => (posix.dirname(rel) === '.' ? '' : posix.dirname(rel));

/** Creates the parent folders of `rel` one by one, refusing any that is not a real folder. */
export class SafeTree {
  private readonly known = new Set<string>(['']);
  /** Folders this extraction created, so their contents are all known in `written`. */
  private readonly fresh = new Set<string>();
  /** What this extraction put at each path, so hardlinks can only reach files it wrote. */
  private readonly written = new Map<string, 'file' | 'symlink'>();
  constructor(readonly root: string) {}

  async ensureDir(rel: string): Promise<boolean> {
    if (this.known.has(rel)) return false;
    await this.ensureDir(parentOf(rel));
    if (this.written.has(rel)) throw new ArchiveError(`archive entry would write through non-folder ${rel}`);
    const abs = join(this.root, rel);
    const existing = this.fresh.has(parentOf(rel)) ? undefined : await lstat(abs).catch(() => undefined);
    if (existing === undefined) {
      await mkdir(abs, { mode: 0o755 });
      this.fresh.add(rel);
    } else if (!existing.isDirectory()) throw new ArchiveError(`archive entry would write through non-folder ${rel}`);
    this.known.add(rel);
    return existing === undefined;
  }

  /** Makes room for a new file or link at `rel`: later entries replace earlier ones, never a folder. */
  async prepare(rel: string, kind: 'file' | 'symlink'): Promise<string> {
    const parent = parentOf(rel);
    await this.ensureDir(parent);
    if (this.known.has(rel)) throw new ArchiveError(`archive entry would replace folder ${rel}`);
    const abs = join(this.root, rel);
    // lstat only where something may already exist: a folder this run did not create, or a repeated entry.
    if (!this.fresh.has(parent) || this.written.has(rel)) {
      const existing = await lstat(abs).catch(() => undefined);
      if (existing?.isDirectory() === true) throw new ArchiveError(`archive entry would replace folder ${rel}`);
      if (existing !== undefined) await unlink(abs);
    }
    this.written.set(rel, kind);
    return abs;
  }

  wroteFile(rel: string): boolean {
    return this.written.get(rel) === 'file';
  }
}

