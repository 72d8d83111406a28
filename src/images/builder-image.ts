import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { ImageError } from '../errors.js';
import { baseRepo, builderRepo, imageSpec, readDockerfile, type ImageSpec } from './specs.js';
import { ensureBaseImage, followProgress, imageId, type Progress } from './base-image.js';

/**
 * Builder images are tagged with a hash of their Dockerfile and of the base
 * image's id: editing the Dockerfile, or remaking the base, gives a new tag,
 * and the executor (which computes the same tag) never runs a stale image.
 */

export interface BuilderImage {
  readonly ref: string;
  readonly id: string;
}

export function builderTag(dockerfile: string, baseId: string): string {
  return createHash('sha256').update(`${dockerfile}\0${baseId}`).digest('hex').slice(0, 16);
}

/** The image the executor runs for `distro`; a clear error when `kbuild images build` has not made it. */
export async function findBuilderImage(docker: Docker, distro: string): Promise<BuilderImage> {
  const spec = imageSpec(distro);
  const missing = (what: string): ImageError =>
    new ImageError(`the ${distro} builder image is not built (${what})`, {
      suggestions: [`Run \`kbuild images build --distro ${distro}\``],
    });
  const baseId = await imageId(docker, `${baseRepo(distro)}:${spec.bootstrapSuite}`);
  if (baseId === undefined) throw missing(`no ${baseRepo(distro)}:${spec.bootstrapSuite}`);
  const ref = `${builderRepo(distro)}:${builderTag(await readDockerfile(distro), baseId)}`;
  const id = await imageId(docker, ref);
  if (id === undefined) throw missing(`no ${ref}; its Dockerfile or base changed since the last build`);
  return { ref, id };
}

export interface BuildReport extends BuilderImage {
  readonly base: string;
  readonly baseHow: 'present' | 'pulled' | 'bootstrapped';
  readonly built: boolean;
}

export async function buildBuilderImage(docker: Docker, distro: string, cacheDir: string, progress: Progress): Promise<BuildReport> {
  return buildDockerfileImage(docker, builderRepo(distro), await readDockerfile(distro), imageSpec(distro), cacheDir, progress);
}

/** An image whose context is its Dockerfile alone, FROM `spec`'s base, tagged with a hash of both (so a stale one is never reused). */
export async function buildDockerfileImage(docker: Docker, repo: string, dockerfile: string, spec: ImageSpec, cacheDir: string, progress: Progress): Promise<BuildReport> {
  const base = await ensureBaseImage(docker, spec, cacheDir, progress);
  const ref = `${repo}:${builderTag(dockerfile, base.id)}`;
  const existing = await imageId(docker, ref);
  if (existing !== undefined) {
    progress(`${ref} is up to date`);
    return { ref, id: existing, base: base.ref, baseHow: base.how, built: false };
  }
  progress(`building ${ref} FROM ${base.ref}`);
  const context = Readable.from([await contextTar(dockerfile)]);
  // The archive is reached only while the image is built; the engine runs without a bridge, so use the host's network.
  const stream = await docker.buildImage(context, { t: ref, buildargs: { BASE: base.ref }, networkmode: 'host', rm: true, forcerm: true });
  await followProgress(docker, stream, (event) => {
    const line = (event.stream ?? event.status ?? '').trimEnd();
    if (line !== '') progress(line);
  });
  const id = await imageId(docker, ref);
  if (id === undefined) throw new ImageError(`docker build of ${ref} finished without the image`);
  return { ref, id, base: base.ref, baseHow: base.how, built: true };
}

/** The build context: the Dockerfile alone (the image copies nothing from the checkout). */
async function contextTar(dockerfile: string): Promise<Buffer> {
  const tar = pack();
  tar.entry({ name: 'Dockerfile', mtime: new Date(0) }, dockerfile);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
