import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { pack } from 'tar-stream';
import { extractTar } from '../../archive/deb.js';
import { ensureBlob } from '../../cache/content-cache.js';
import { KbuildError } from '../../errors.js';
import { assertSafeKey } from '../../store/keys.js';
import type { ArtifactStore } from '../../store/types.js';
import type { BundleFile } from './collect.js';

/**
 * A probe's tree travels as one tar, stored once by its sha256 (in the store,
 * where any worker can read it, and in the local cache): queue jobs name it
 * instead of carrying it, so a project with a 3 MB vmlinux.h or 170 sources
 * costs one upload per content, not one copy per kernel. The tar is made
 * deterministically (sorted, no times or owners), so the same tree always
 * has the same address.
 */

export interface BundleRef {
  readonly sha256: string;
  readonly size: number;
  readonly files: number;
}

export function bundleKey(sha256: string): string {
  return assertSafeKey(`bundles/${sha256}.tar`);
}

export async function packBundle(files: readonly BundleFile[]): Promise<{ tar: Buffer; ref: BundleRef }> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  const common = { mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' };
  for (const file of files) {
    if (file.kind === 'symlink') {
      archive.entry({ ...common, name: file.path, type: 'symlink', linkname: String(file.data), mode: 0o777 });
    } else {
      archive.entry({ ...common, name: file.path, type: 'file', mode: file.executable ? 0o755 : 0o644 }, file.data as Buffer);
    }
  }
  archive.finalize();
  await done;
  const tar = Buffer.concat(chunks);
  return { tar, ref: { sha256: createHash('sha256').update(tar).digest('hex'), size: tar.length, files: files.length } };
}

/** Puts the tar in the store unless the store already has it (content-addressed: same key, same bytes). */
export async function storeBundle(store: ArtifactStore, tar: Buffer, ref: BundleRef): Promise<void> {
  const key = bundleKey(ref.sha256);
  if ((await store.stat(key))?.size === ref.size) return;
  await store.putBytes(key, tar);
}

/** Keeps a tar in the local cache, so this machine never reads it back from the store. */
export async function cacheBundle(cacheDir: string, tar: Buffer, ref: BundleRef): Promise<void> {
  await ensureBlob(cacheDir, ref.sha256, (dest) => writeFile(dest, tar));
}

/**
 * Unpacks a bundle into `dest` (a job's own writable copy: configure steps
 * and the kernel's build system write into it). Read from the cache, else
 * from the store, and checked against its sha256 either way.
 */
export async function unpackBundle(ref: BundleRef, dest: string, from: { cacheDir: string; store: ArtifactStore }): Promise<void> {
  const entry = await ensureBlob(from.cacheDir, ref.sha256, async (path) => {
    const bytes = await from.store.get(bundleKey(ref.sha256));
    if (bytes === undefined) {
      throw new KbuildError('E_BUNDLE_MISSING', `${from.store.location}/${bundleKey(ref.sha256)} is missing: the probe's sources were not uploaded`, {
        suggestions: ['Submit the build set again: `kbuild submit` uploads the sources before queueing jobs'],
      });
    }
    checkBytes(bytes, ref);
    await writeFile(path, bytes);
  });
  const tar = await readFile(entry.path);
  checkBytes(tar, ref);
  await extractTar(tar, '', dest);
}

function checkBytes(bytes: Buffer, ref: BundleRef): void {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== ref.sha256 || bytes.length !== ref.size) {
    throw new KbuildError('E_BUNDLE_SHA256', `probe sources bundle ${ref.sha256} has sha256 ${sha256} (${bytes.length} bytes)`);
  }
}
