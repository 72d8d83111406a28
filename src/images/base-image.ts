import type Docker from 'dockerode';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { findMirror } from '../../builders/debian/mirror.js';
import { ensureEntry } from '../cache/content-cache.js';
import { ImageError } from '../errors.js';
import { run } from '../exec/exec.js';
import { baseRepo, type ImageSpec } from './specs.js';

/**
 * The base image a builder image starts FROM. A registry is tried first;
 * where none answers (this farm's machines) the same Debian release is made
 * with debootstrap and imported. The root filesystem tarball is cached, so
 * re-importing after the engine's data is wiped costs seconds, not minutes.
 */

export type Progress = (message: string) => void;

const PULL_TIMEOUT_MS = 30_000;
const TARBALL = 'rootfs.tar';

export interface BaseImage {
  readonly ref: string;
  readonly id: string;
  readonly how: 'present' | 'pulled' | 'bootstrapped';
}

export async function ensureBaseImage(docker: Docker, spec: ImageSpec, cacheDir: string, progress: Progress): Promise<BaseImage> {
  const ref = `${baseRepo(spec.distro)}:${spec.bootstrapSuite}`;
  const present = await imageId(docker, ref);
  if (present !== undefined) return { ref, id: present, how: 'present' };

  progress(`pulling ${spec.pullableBase}`);
  if (await tryPull(docker, spec.pullableBase)) {
    await docker.getImage(spec.pullableBase).tag({ repo: baseRepo(spec.distro), tag: spec.bootstrapSuite });
    return { ref, id: await requireId(docker, ref), how: 'pulled' };
  }
  progress(`no registry answered; making ${spec.bootstrapSuite} with debootstrap`);
  const tarball = await bootstrapTarball(spec.bootstrapSuite, cacheDir, progress);
  progress(`importing ${tarball} as ${ref}`);
  const stream = await docker.importImage(tarball, { repo: baseRepo(spec.distro), tag: spec.bootstrapSuite });
  await followProgress(docker, stream);
  return { ref, id: await requireId(docker, ref), how: 'bootstrapped' };
}

/** debootstrap (minbase) into a scratch folder, packed as one tarball in the cache. */
async function bootstrapTarball(suite: string, cacheDir: string, progress: Progress): Promise<string> {
  const arch = (await run('dpkg', ['--print-architecture'])).stdout.trim();
  const entry = await ensureEntry(cacheDir, 'docker-base', `debian-${suite}-minbase-${arch}`, async (dir) => {
    if (process.getuid?.() !== 0) throw new ImageError('debootstrap needs root to make the base image', { suggestions: ['Run `kbuild images build` as root'] });
    const mirror = await findMirror();
    progress(`debootstrap --variant=minbase ${suite} from ${mirror.url} (${mirror.source})`);
    const root = join(dir, 'root');
    try {
      await run('debootstrap', ['--variant=minbase', `--arch=${arch}`, suite, root, mirror.url], { timeoutMs: 20 * 60_000 });
      // Downloaded packages and indexes are dead weight in an image.
      await rm(join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
      await rm(join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
      await run('mkdir', ['-p', join(root, 'var/cache/apt/archives/partial'), join(root, 'var/lib/apt/lists/partial')]);
      await run('tar', ['--numeric-owner', '-C', root, '-cf', join(dir, TARBALL), '.']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
  if (!entry.created) progress(`reusing the cached ${suite} root filesystem`);
  return join(entry.path, TARBALL);
}

async function tryPull(docker: Docker, ref: string): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PULL_TIMEOUT_MS);
  });
  const pull = (async () => {
    const stream = await docker.pull(ref);
    await followProgress(docker, stream);
    return true;
  })().catch(() => false);
  try {
    return await Promise.race([pull, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function imageId(docker: Docker, ref: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(ref).inspect()).Id;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

async function requireId(docker: Docker, ref: string): Promise<string> {
  const id = await imageId(docker, ref);
  if (id === undefined) throw new ImageError(`${ref} is missing right after it was made`);
  return id;
}

/** Waits for a progress stream; an `error` event in it becomes an ImageError. */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream, onEvent?: (event: ProgressEvent) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, events: ProgressEvent[]) => {
        const failed = events?.find((e) => e.error !== undefined);
        if (err !== null) reject(new ImageError(err.message, { cause: err }));
        else if (failed !== undefined) reject(new ImageError(failed.error ?? 'image operation failed'));
        else resolve();
      },
      onEvent,
    );
  });
}

export interface ProgressEvent {
  readonly stream?: string;
  readonly status?: string;
  readonly error?: string;
  readonly aux?: { ID?: string };
}
