import type Docker from 'dockerode';
import { buildDockerfileImage, type BuildReport } from './builder-image.js';
import type { Progress } from './base-image.js';
import { readDockerfile, type ImageSpec } from './specs.js';

/**
 * The images of a farm's other services (deploy/compose.yaml's `redis` and
 * `s3`), made from Debian packages FROM a debootstrapped base like every
 * kbuild image: a farm needs no image registry. Tagged with a hash of the
 * Dockerfile and base, and `latest` for the compose file.
 */
export const SERVICE_IMAGES = {
  redis: { repo: 'kbuild/redis', base: { distro: 'debian', pullableBase: 'debian:bookworm-slim', bootstrapSuite: 'bookworm' } },
  // radosgw's standalone dbstore backend needs trixie's Ceph.
  rgw: { repo: 'kbuild/rgw', base: { distro: 'debian', pullableBase: 'debian:trixie-slim', bootstrapSuite: 'trixie' } },
} as const satisfies Record<string, { repo: string; base: ImageSpec }>;

export type ServiceImage = keyof typeof SERVICE_IMAGES;

export async function buildServiceImage(docker: Docker, name: ServiceImage, cacheDir: string, progress: Progress): Promise<BuildReport> {
  const { repo, base } = SERVICE_IMAGES[name];
  const report = await buildDockerfileImage(docker, repo, await readDockerfile(name), base, cacheDir, progress);
  await docker.getImage(report.ref).tag({ repo, tag: 'latest' });
  return report;
}
