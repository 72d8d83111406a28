import { createHash } from 'node:crypto';
import { ArtifactIndex, INDEX_SCHEMA_VERSION, type IndexArtifact } from '@kbuild/loader';
import type { ArtifactStore } from '../../src/store/types.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Index entries for bytes a test stores itself (publishing and fetching do not look inside objects). */
export function artifactFor(path: string, bytes: Uint8Array, fields: Partial<IndexArtifact> & Pick<IndexArtifact, 'probe' | 'kind'>): IndexArtifact {
  return {
    path,
    arch: 'x86_64',
    kernel: { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' },
    size: bytes.length,
    sha256: sha256(bytes),
    buildId: sha256(Buffer.from(path)),
    toolchain: 'test',
    verification: [],
    ...fields,
  };
}

export function indexOf(artifacts: IndexArtifact[], failures: ArtifactIndex['failures'] = []): ArtifactIndex {
  return ArtifactIndex.parse({ schemaVersion: INDEX_SCHEMA_VERSION, generatedAt: new Date().toISOString(), generator: 'test', artifacts, failures });
}

/** A per-kernel object of `probe` for `release`, stored, with its entry. */
export async function storeNonCore(store: ArtifactStore, probe: string, release: string, bytes: Uint8Array): Promise<IndexArtifact> {
  const path = `${probe}/x86_64/${probe}_debian_${release}.o`;
  await store.putBytes(path, bytes);
  return artifactFor(path, bytes, { probe, kind: 'non-core', kernel: { distro: 'debian', release, arch: 'x86_64' } });
}
