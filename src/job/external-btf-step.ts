import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DistroBuilder } from '../../builders/types.js';
import { storeBtfBlob } from '../btf/btf-store.js';
import { obtainFullBtf } from '../btf/full-btf.js';
import { checkMinimized, minimizeBtf } from '../btf/minimize.js';
import { errorMessage, KbuildError } from '../errors.js';
import type { Executor } from '../executor/types.js';
import type { IndexExternalBtf } from '@kbuild/loader';
import { coreKey } from '../store/keys.js';
import type { ArtifactStore } from '../store/types.js';
import { buildId, sha256Hex } from './build-id.js';
import { readBuildRecord, readIntactRecord } from './build-record.js';
import { buildCoreObject, templateDigest } from './compile-job.js';
import type { BtfJob, CoreJob } from './types.js';
import type { JobWorkspace } from './processor.js';
import { kernelConfigHasBtf } from '../btf/kernel-config.js';
import type { ExternalBtfRecord } from '../btf/btf-record.js';

export interface BtfJobResult {
  readonly record: ExternalBtfRecord;
  readonly downloaded: boolean;
}

/**
 * One kernel without BTF of its own, one probe's CO-RE object: its full BTF
 * (first source that has it), the arch's CO-RE object compiled here from the
 * same inputs as the CO-RE job (same build id, same bytes), the BTF cut to
 * what that object relocates against, libbpf's relocations checked against
 * the full BTF, and the blob stored content-addressed. A failed minimization
 * or check stores the full BTF instead, so the loader still has something and
 * the index says why. With `btf: auto`, a kernel whose .config enables
 * CONFIG_DEBUG_INFO_BTF needs nothing, and the record says so.
 */
export async function processBtfJob(job: BtfJob, id: string, w: JobWorkspace, deps: { store: ArtifactStore; builderFor: (distro: string) => DistroBuilder | undefined }): Promise<BtfJobResult> {
  const request = job.request;
  const base = { buildId: id, probe: job.probe.name, kernel: { ...job.kernel } };
  let downloaded = false;
  if (request.when === 'auto') {
    w.stage('fetch');
    const headers = await w.builder.fetchHeaders(job.kernel, w.context);
    downloaded = !headers.fromCache;
    if ((await kernelConfigHasBtf(headers.trees.flavour)) !== false) return { record: base, downloaded };
  }
  const made = await makeExternalBtf(job, { ...deps, ...w });
  return { record: { ...base, externalBtf: made.btf }, downloaded: downloaded || made.downloaded };
}

interface ExternalBtfDeps extends JobWorkspace {
  readonly store: ArtifactStore;
  readonly builderFor: (distro: string) => DistroBuilder | undefined;
}

async function makeExternalBtf(job: BtfJob, deps: ExternalBtfDeps): Promise<{ btf: IndexExternalBtf; downloaded: boolean }> {
  const request = job.request;
  const builder = deps.builderFor(job.kernel.distro);
  const coreBuilder = deps.builderFor(request.coreBtfKernel.distro);
  if (builder === undefined || coreBuilder === undefined) {
    throw new KbuildError('E_UNKNOWN_DISTRO', `no builder for the external BTF of ${job.kernel.distro} ${job.kernel.release}`);
  }
  deps.stage('fetch');
  const full = await obtainFullBtf(job.kernel, {
    builder,
    context: deps.context,
    sources: request.sources,
    ...(request.archive === undefined ? {} : { archive: request.archive }),
    ...(request.distroVersion === undefined ? {} : { distroVersion: request.distroVersion }),
  });
  const dir = join(deps.scratch, 'external-btf');
  await mkdir(join(dir, 'out'), { recursive: true });
  const coreObject = join(dir, 'out', 'core.o');
  const coreJob: CoreJob = {
    kind: 'core',
    probe: job.probe,
    arch: job.kernel.arch,
    btfKernel: request.coreBtfKernel,
    ...(request.coreExecutor === undefined ? {} : { executor: request.coreExecutor }),
  };
  // Same executor as the CO-RE job, so both have one toolchain and one build id.
  const executor = await deps.executorFor(coreJob);
  // The CO-RE job of the same build id already stored its object: cut the BTF for those very bytes, compile nothing.
  const reused = await storedCoreObject(deps.store, executor, coreJob, coreObject);
  const core = reused
    ? { downloaded: false }
    : await buildCoreObject(coreJob, {
        builder: coreBuilder, context: deps.context, executor, probeDir: await deps.project(), scratch: dir, outFile: coreObject, stage: deps.stage, signal: deps.signal,
      });
  const coreSha256 = sha256Hex(await readFile(coreObject));
  if (!reused) await assertSameAsStoredCore(deps.store, executor, coreJob, coreSha256);
  deps.stage('compile');
  const minimized = join(dir, 'minimized.btf');
  let kind: IndexExternalBtf['kind'] = 'minimized';
  let relocationCheck: IndexExternalBtf['relocationCheck'];
  try {
    await minimizeBtf(full.path, [coreObject], minimized);
    relocationCheck = await checkMinimized(full.path, minimized, [coreObject]);
  } catch (err) {
    relocationCheck = { result: 'failed', relocations: 0, detail: errorMessage(err).slice(0, 4000) };
  }
  if (relocationCheck.result !== 'ok') kind = 'full';
  deps.stage('store');
  const stored = await storeBtfBlob(deps.store, kind === 'minimized' ? minimized : full.path);
  return {
    downloaded: full.downloaded || core.downloaded,
    btf: {
      core: coreKey(job.probe.name, job.kernel.arch),
      coreSha256,
      kind,
      btf: { path: stored.path, size: stored.size, sha256: stored.sha256 },
      source: {
        kind: full.source,
        ...(full.package === undefined ? {} : { package: { name: full.package.name, version: full.package.version, sha256: full.package.sha256 } }),
        ...(full.location === undefined ? {} : { location: full.location.slice(0, 1024) }),
        size: full.size,
        sha256: full.sha256,
      },
      relocationCheck,
    },
  };
}

/**
 * The BTF is only good for the very object it was cut for: when the store
 * already holds the CO-RE artifact of the same build id, this compile must
 * have given the same bytes, or the build is not reproducible.
 */
/** Writes the stored CO-RE object of this very build (same build id, intact) to `dest`; false when there is none. */
async function storedCoreObject(store: ArtifactStore, executor: Executor, coreJob: CoreJob, dest: string): Promise<boolean> {
  const key = coreKey(coreJob.probe.name, coreJob.arch);
  // The record, then the object read once and checked against it (readIntactRecord would read it twice).
  const stored = await readBuildRecord(store, key);
  if (stored === undefined || stored.buildId !== buildId(coreJob, await executor.toolchainId(), await templateDigest())) return false;
  const bytes = await store.get(key);
  if (bytes === undefined || bytes.length !== stored.size || sha256Hex(bytes) !== stored.sha256) return false;
  await writeFile(dest, bytes);
  return true;
}

async function assertSameAsStoredCore(store: ArtifactStore, executor: Executor, coreJob: CoreJob, sha256: string): Promise<void> {
  const key = coreKey(coreJob.probe.name, coreJob.arch);
  const stored = await readIntactRecord(store, key);
  if (stored === undefined) return;
  const id = buildId(coreJob, await executor.toolchainId(), await templateDigest());
  if (stored.buildId === id && stored.sha256 !== sha256) {
    throw new KbuildError(
      'E_NOT_REPRODUCIBLE',
      `${key}: compiled again for external BTF with the same build id, got sha256 ${sha256}, the store has ${stored.sha256}`,
    );
  }
}
