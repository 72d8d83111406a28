import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageError } from '../errors.js';

/**
 * One builder image per distro builder: images/<distro>/Dockerfile, built
 * FROM a base image of the distro release whose toolchain it carries.
 */
export interface ImageSpec {
  readonly distro: string;
  /** The base as a registry names it, tried first. */
  readonly pullableBase: string;
  /** How to make the same base without a registry: debootstrap of this Debian suite. */
  readonly bootstrapSuite: string;
}

export const IMAGE_SPECS: Readonly<Record<string, ImageSpec>> = {
  debian: { distro: 'debian', pullableBase: 'debian:bookworm-slim', bootstrapSuite: 'bookworm' },
};

/** Repository names of the images kbuild makes; tags are content hashes or suites. */
export const baseRepo = (distro: string): string => `kbuild/base-${distro}`;
export const builderRepo = (distro: string): string => `kbuild/builder-${distro}`;

const IMAGES_DIR = fileURLToPath(new URL('../../../images/', import.meta.url));
const IMAGES_DIR_SRC = fileURLToPath(new URL('../../images/', import.meta.url));

export function imageSpec(distro: string): ImageSpec {
  const spec = IMAGE_SPECS[distro];
  if (spec === undefined) {
    throw new ImageError(`no builder image for distro "${distro}" (images exist for: ${Object.keys(IMAGE_SPECS).join(', ')})`, {
      suggestions: ['Use the local executor for this distro (`executor: local` or `--executor local`)'],
    });
  }
  return spec;
}

/** The Dockerfile's text; found from dist/ and from sources run with tsx. */
export async function readDockerfile(distro: string): Promise<string> {
  for (const dir of [IMAGES_DIR, IMAGES_DIR_SRC]) {
    const text = await readFile(join(dir, distro, 'Dockerfile'), 'utf8').catch(() => undefined);
    if (text !== undefined) return text;
  }
  throw new ImageError(`images/${distro}/Dockerfile is missing from this installation`);
}
