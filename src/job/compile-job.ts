import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { BuilderContext, DistroBuilder, PackageRef } from '../../builders/types.js';
import { imageBtfEntry } from '../btf/image-btf.js';
import { kernelConfigHasBtf } from '../btf/kernel-config.js';
import type { Executor } from '../executor/types.js';
import type { IndexBuildConfig, IndexSourcePackage } from '../loader/index-schema.js';
import { templateText } from '../template/render.js';
import { buildConfig, renderKbuildConfig } from './build-config.js';
import { compileCore, compileNonCore } from './compile.js';
import type { JobStage } from './processor.js';
import type { CoreJob, NonCoreJob } from './types.js';

export interface CompileContext {
  readonly builder: DistroBuilder;
  readonly context: BuilderContext;
  readonly executor: Executor;
  /** The probe's sources, written out from the job. */
  readonly probeDir: string;
  readonly scratch: string;
  readonly outFile: string;
  readonly stage: (stage: JobStage) => void;
  readonly signal: AbortSignal | undefined;
}

export interface BuiltObject {
  readonly downloaded: boolean;
  /** The kernel's own package first (flavour headers, or the image): its version is the kernel's package version. */
  readonly sources: readonly IndexSourcePackage[];
  readonly buildConfig?: IndexBuildConfig;
  /** Non-CO-RE: whether the kernel's .config enables CONFIG_DEBUG_INFO_BTF (undefined: no .config). */
  readonly kernelHasBtf?: boolean;
}

const CONFIG_TEMPLATE = 'kbuild-config.h';
let digest: Promise<string> | undefined;

/** Part of every non-CO-RE build id: a changed template changes every per-kernel object. */
export function templateDigest(): Promise<string> {
  digest ??= templateText(CONFIG_TEMPLATE).then((text) => createHash('sha256').update(text).digest('hex'));
  return digest;
}

export async function buildNonCoreObject(job: NonCoreJob, c: CompileContext): Promise<BuiltObject> {
  c.stage('fetch');
  const headers = await c.builder.fetchHeaders(job.kernel, c.context);
  c.stage('compile');
  const config = buildConfig(job.kernel.release, headers.trees.versionCode, job.probe.tweaks);
  await compileNonCore(
    c.executor,
    {
      probeDir: c.probeDir,
      entry: job.probe.entry,
      arch: job.kernel.arch,
      workDir: join(c.scratch, 'work'),
      output: c.outFile,
      headers: headers.trees,
      configHeader: await renderKbuildConfig(config),
    },
    c.signal,
  );
  const kernelHasBtf = await kernelConfigHasBtf(headers.trees.flavour);
  return {
    ...(kernelHasBtf === undefined ? {} : { kernelHasBtf }),
    downloaded: !headers.fromCache,
    sources: headers.packages.map(sourcePackage),
    buildConfig: {
      linuxVersionCode: config.versionCode,
      maxPathComponents: config.maxPathComponents,
      defines: Object.fromEntries(config.defines.map((d) => [d.name, d.value])),
    },
  };
}

export async function buildCoreObject(job: CoreJob, c: CompileContext): Promise<BuiltObject> {
  c.stage('fetch');
  const image = await c.builder.fetchImage(job.btfKernel, c.context);
  // vmlinux.h is cached per kernel image: many probes, one extraction.
  const vmlinuxDir = await imageBtfEntry(c.context.cacheDir, image, job.arch);
  c.stage('compile');
  await compileCore(
    c.executor,
    {
      probeDir: c.probeDir,
      entry: job.probe.entry,
      arch: job.arch,
      workDir: join(c.scratch, 'work'),
      output: c.outFile,
      vmlinuxDir,
    },
    c.signal,
  );
  return { downloaded: !image.fromCache, sources: [sourcePackage(image.package)] };
}

function sourcePackage(ref: PackageRef): IndexSourcePackage {
  return { name: ref.name, version: ref.version, sha256: ref.sha256 };
}
