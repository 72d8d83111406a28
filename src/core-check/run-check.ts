import type { IndexArtifact, IndexCoreCheck } from '@kbuild/loader';
import { rm } from 'node:fs/promises';
import { builderFor } from '../../builders/registry.js';
import { obtainFullBtf, type FullBtf } from '../btf/full-btf.js';
import type { BtfSourceName } from '../btf/source-names.js';
import { errorMessage } from '../errors.js';
import type { KernelIdentity } from '../kernel/identity.js';
import type { ArtifactStore } from '../store/types.js';
import { makeScratch } from '../util/scratch.js';
import { StoreFiles } from '../verify/stage/materialize.js';
import { checkCoreObject, loadCoreObject, type CoreCheckResult, type CoreObject } from './check-object.js';

/**
 * `kbuild check`'s engine: every CO-RE object of an index against the full
 * BTF of every kernel in scope of its arch. A kernel's BTF is obtained once
 * (image, debug package or BTFHub-style archive, as `btf.sources` says); a
 * kernel none of them has gets `unknown` for every object.
 */

export interface CheckKernel extends KernelIdentity {
  /** For BTFHub-style archive paths. */
  readonly distroVersion?: string;
}

export interface RunCoreCheckOptions {
  readonly store: ArtifactStore;
  readonly artifacts: readonly IndexArtifact[];
  readonly kernels: readonly CheckKernel[];
  readonly cacheDir: string;
  readonly sources?: readonly BtfSourceName[];
  readonly archive?: string;
  readonly mirrors?: Readonly<Record<string, string>>;
  /** Kernels worked on at once (BTF downloads and bpftool runs). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onKernel?: (kernel: CheckKernel, outcomes: readonly CoreCheckOutcome[]) => void;
}

export interface CoreCheckOutcome {
  /** The artifact's store key and sha256: the entry goes onto exactly these bytes. */
  readonly path: string;
  readonly probe: string;
  readonly entry: IndexCoreCheck;
}

export interface CoreCheckRun {
  readonly outcomes: readonly CoreCheckOutcome[];
  /** bpftool runs (object x kernel with BTF) and the BTF bytes they read. */
  readonly checks: number;
  readonly btfBytes: number;
  readonly checkSeconds: number;
}

export async function runCoreCheck(options: RunCoreCheckOptions): Promise<CoreCheckRun> {
  const cores = options.artifacts.filter((a) => a.kind === 'core');
  const dir = await makeScratch('kbuild-check-');
  const files = new StoreFiles(options.store, dir);
  const objects = new Map<string, Promise<CoreObject>>();
  const objectOf = (a: IndexArtifact): Promise<CoreObject> => {
    let got = objects.get(a.sha256);
    if (got === undefined) {
      got = files.file(a, '.o').then(loadCoreObject);
      objects.set(a.sha256, got);
    }
    return got;
  };
  const outcomes: CoreCheckOutcome[] = [];
  let checks = 0;
  let btfBytes = 0;
  let checkMs = 0;
  const queue = options.kernels.filter((k) => cores.some((a) => a.arch === k.arch));
  const worker = async (): Promise<void> => {
    for (let kernel = queue.shift(); kernel !== undefined && options.signal?.aborted !== true; kernel = queue.shift()) {
      const mine = cores.filter((a) => a.arch === kernel.arch);
      const btf = await kernelBtf(kernel, options);
      const done: CoreCheckOutcome[] = [];
      for (const artifact of mine) {
        if (typeof btf === 'string') {
          done.push({ path: artifact.path, probe: artifact.probe, entry: { kernel: identity(kernel), result: 'unknown', coreSha256: artifact.sha256, detail: btf.slice(0, 4000) } });
          continue;
        }
        const started = performance.now();
        const result = await checkCoreObject(await objectOf(artifact), btf.path);
        checkMs += performance.now() - started;
        checks += 1;
        btfBytes += result.btfBytes;
        done.push({ path: artifact.path, probe: artifact.probe, entry: entryOf(kernel, artifact, btf, result) });
      }
      outcomes.push(...done);
      options.onKernel?.(kernel, done);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { outcomes, checks, btfBytes, checkSeconds: checkMs / 1000 };
}

/** The kernel's full BTF, or why there is none. */
async function kernelBtf(kernel: CheckKernel, options: RunCoreCheckOptions): Promise<FullBtf | string> {
  const builder = builderFor(kernel.distro);
  if (builder === undefined) return `no builder for distro ${kernel.distro}`;
  const mirror = options.mirrors?.[kernel.distro];
  try {
    return await obtainFullBtf(identity(kernel), {
      builder,
      context: { cacheDir: options.cacheDir, ...(mirror === undefined ? {} : { mirror }), ...(options.signal === undefined ? {} : { signal: options.signal }) },
      ...(options.sources === undefined ? {} : { sources: options.sources }),
      ...(options.archive === undefined ? {} : { archive: options.archive }),
      ...(kernel.distroVersion === undefined ? {} : { distroVersion: kernel.distroVersion }),
    });
  } catch (err) {
    if (options.signal?.aborted === true) throw err;
    return `no BTF for this kernel: ${errorMessage(err)}`;
  }
}

function identity(k: CheckKernel): KernelIdentity {
  return { distro: k.distro, release: k.release, arch: k.arch, ...(k.version === undefined ? {} : { version: k.version }) };
}

function entryOf(kernel: CheckKernel, artifact: IndexArtifact, btf: FullBtf, result: CoreCheckResult): IndexCoreCheck {
  const failures = result.unresolved.filter((u) => !u.guarded).slice(0, 64).map((u) => ({
    relocation: u.relocation.slice(0, 512), kind: u.kind.slice(0, 32), type: u.type.slice(0, 256), field: u.field.slice(0, 512),
  }));
  const guarded = result.unresolved.length - result.unresolved.filter((u) => !u.guarded).length;
  return {
    kernel: identity(kernel),
    result: result.result,
    coreSha256: artifact.sha256,
    btfSha256: btf.sha256,
    btfSource: btf.source,
    relocations: result.relocations,
    ...(guarded > 0 ? { guarded } : {}),
    ...(failures.length > 0 ? { failures } : {}),
    detail: result.detail,
  };
}
