import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { ImageError } from '../errors.js';
import { run } from '../exec/exec.js';
import { ensureBaseImage, followProgress, imageId, type Progress } from './base-image.js';
import { IMAGE_SPECS } from './specs.js';
import type { BuildReport } from './builder-image.js';

/**
 * The image of kbuild itself (images/kbuild/Dockerfile), running a worker.
 * Its context is this installation packed with `npm pack` and installed with
 * production dependencies only, so the image holds what `npm install kbuild`
 * would, not a checkout's dev tools. Tagged with a hash of the Dockerfile, the
 * base image and the packed tarball; also tagged `latest` for compose files.
 */

export const KBUILD_REPO = 'kbuild/kbuild';
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export async function buildKbuildImage(docker: Docker, cacheDir: string, progress: Progress): Promise<BuildReport> {
  const base = await ensureBaseImage(docker, IMAGE_SPECS['debian']!, cacheDir, progress);
  const dockerfile = join(PACKAGE_ROOT, 'images', 'kbuild', 'Dockerfile');
  const staging = await mkdtemp(join(tmpdir(), 'kbuild-image-'));
  try {
    progress(`npm pack ${PACKAGE_ROOT}`);
    const packed = await run('npm', ['pack', '--json', '--pack-destination', staging], { cwd: PACKAGE_ROOT, timeoutMs: 10 * 60_000 });
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[];
    if (info === undefined) throw new ImageError(`npm pack printed no tarball: ${packed.stdout}`);
    const tarball = join(staging, info.filename);
    const tag = createHash('sha256')
      .update(await readFile(dockerfile))
      .update(`\0${base.id}\0`)
      .update(await readFile(tarball))
      .digest('hex')
      .slice(0, 16);
    const ref = `${KBUILD_REPO}:${tag}`;
    const existing = await imageId(docker, ref);
    if (existing !== undefined) {
      await docker.getImage(ref).tag({ repo: KBUILD_REPO, tag: 'latest' });
      progress(`${ref} is up to date`);
      return { ref, id: existing, base: base.ref, baseHow: base.how, built: false };
    }
    // Install scripts stay off: the only ones (ssh2's optional native crypto) are not needed by a worker.
    progress('npm install --omit=dev (the image gets production dependencies only)');
    const app = join(staging, 'context', 'kbuild');
    await run('npm', ['install', '--prefix', app, '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', tarball], { timeoutMs: 15 * 60_000 });
    await copyFile(dockerfile, join(staging, 'context', 'Dockerfile'));
    await run('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', join(staging, 'context'), '-cf', join(staging, 'context.tar'), '.']);
    progress(`building ${ref} FROM ${base.ref}`);
    const stream = await docker.buildImage(createReadStream(join(staging, 'context.tar')), {
      t: ref,
      buildargs: { BASE: base.ref },
      networkmode: 'host',
      rm: true,
      forcerm: true,
    });
    await followProgress(docker, stream, (event) => {
      const line = (event.stream ?? event.status ?? '').trimEnd();
      if (line !== '') progress(line);
    });
    const id = await imageId(docker, ref);
    if (id === undefined) throw new ImageError(`docker build of ${ref} finished without the image`);
    await docker.getImage(ref).tag({ repo: KBUILD_REPO, tag: 'latest' });
    return { ref, id, base: base.ref, baseHow: base.how, built: true };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
