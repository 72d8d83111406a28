import type { ArtifactIndex, IndexArtifact, IndexKernelBtf, IndexVerification } from '@kbuild/loader';

/**
 * What a shard keeps of an index entry: what `pick` reads, nothing that only
 * a report shows. The QEMU entries and offline CO-RE checks of other kernels
 * go (a CO-RE object is booted and checked in every kernel of its arch, so
 * they grow with the fleet), and so do
 * logs, warnings, provenance and build configuration: the full entries stay
 * in index.json.
 */
type KernelId = { readonly distro: string; readonly release: string; readonly arch: string };

const SHARD_GENERATOR = 'kbuild index shard';

const firstLine = (text: string): string => text.split('\n')[0] ?? text;

function slimVerification(v: IndexVerification): IndexVerification {
  return {
    method: v.method,
    result: v.result,
    ...(v.detail === undefined ? {} : { detail: firstLine(v.detail) }),
    ...(v.kernel === undefined ? {} : { kernel: v.kernel }),
    ...(v.mode === undefined ? {} : { mode: v.mode }),
    ...(v.events === undefined ? {} : { events: v.events }),
  };
}

const sameKernel = (a: KernelId, b: KernelId): boolean => a.distro === b.distro && a.release === b.release && a.arch === b.arch;

/** `kernel` undefined: the entries of a kernel the index does not list (no QEMU entry can be about it). */
export function artifactView(artifact: IndexArtifact, kernel: KernelId | undefined): IndexArtifact {
  const { sources: _s, buildConfig: _b, externalBtf: _e, warnings: _w, verification, coreCheck, ...rest } = artifact;
  const kept = verification.filter((v) => v.method !== 'qemu' || (kernel !== undefined && v.kernel !== undefined && sameKernel(v.kernel, kernel)));
  // The offline CO-RE check has one entry per kernel of the archive: only this kernel's is read by its pick.
  const checked = kernel === undefined ? [] : (coreCheck ?? []).filter((c) => sameKernel(c.kernel, kernel)).map(({ detail, ...c }) => ({ ...c, ...(detail === undefined ? {} : { detail: firstLine(detail) }) }));
  return { ...rest, verification: kept.map(slimVerification), ...(checked.length === 0 ? {} : { coreCheck: checked }) };
}

export function kernelBtfView(entry: IndexKernelBtf): IndexKernelBtf {
  return {
    kernel: entry.kernel,
    objects: entry.objects.map(({ source, ...object }) => ({ ...object, source: { kind: source.kind, size: source.size, sha256: source.sha256 } })),
  };
}

/**
 * A shard is itself an index (schema and all), holding only what one kernel's
 * pick reads. It carries no date nor the publisher's version (the manifest
 * and index.json do): an unchanged kernel's shard keeps its bytes, and so its
 * key, from one publish to the next.
 */
export function shardIndex(full: ArtifactIndex, artifacts: IndexArtifact[], kernelBtf: IndexKernelBtf[]): ArtifactIndex {
  return { schemaVersion: full.schemaVersion, generatedAt: '', generator: SHARD_GENERATOR, artifacts, failures: [], kernelBtf };
}
