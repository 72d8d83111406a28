import { createHash } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BuilderContext, DistroBuilder, PackageRef } from '../../builders/types.js';
import { imageBtfEntry } from '../btf/image-btf.js';
import { kernelConfigHasBtf } from '../btf/kernel-config.js';
import type { Executor } from '../executor/types.js';
import type { IndexBuildConfig, IndexSourcePackage } from '@kbuild/loader';
import { templateText } from '../template/render.js';
import { buildConfig, renderKbuildConfig } from './build-config.js';
import { compileCore, compileNonCore, type CompileResult, type ProbeCompileOptions } from './compile.js';
import { libbpfHeadersFor } from './libbpf-choice.js';
import { defineArgs, type ProbeSpec } from './probe-spec.js';
import type { JobStage } from './processor.js';
import { compileKbuildProbe } from './kbuild-job.js';
import type { CoreJob, NonCoreJob } from './types.js';
import { uapiHeaders } from './uapi-headers.js';

export interface CompileContext {
  readonly builder: DistroBuilder;
  readonly context: BuilderContext;
  readonly executor: Executor;
  /** The job's own (writable) copy of the probe's project. */
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
  /** What the compiler printed on success (warnings), kept in the build record and the index. */
  readonly warnings: string;
}

const CONFIG_TEMPLATE = 'kbuild-config.h';
let digest: Promise<string> | undefined;

/** Part of every non-CO-RE build id: a changed template changes every per-kernel object. */
export function templateDigest(): Promise<string> {
  digest ??= templateText(CONFIG_TEMPLATE).then((text) => createHash('sha256').update(text).digest('hex'));
  return digest;
}

/** kernels.yaml's per-probe settings as compiler options for one build kind. */
function probeOptions(probe: ProbeSpec, probeDir: string, kind: 'non-core' | 'core'): ProbeCompileOptions {
  return {
    includes: probe.includes.map((dir) => join(probeDir, dir)),
    defines: defineArgs(probe.defines),
    cflags: probe.cflags[kind],
    mcpu: probe.mcpu,
  };
}

export async function buildNonCoreObject(job: NonCoreJob, c: CompileContext): Promise<BuiltObject> {
  c.stage('fetch');
  if (job.probe.kbuild !== undefined) return compileKbuildProbe(job, c);
  const headers = await c.builder.fetchHeaders(job.kernel, c.context);
  const libbpf = await libbpfHeadersFor(job.probe, c.probeDir, job.kernel.arch, c.context);
  c.stage('compile');
  const config = buildConfig(job.kernel.release, headers.trees.versionCode, job.probe.tweaks);
  const result = await compileNonCore(
    c.executor,
    {
      probeDir: c.probeDir,
      sources: job.probe.sources,
      options: probeOptions(job.probe, c.probeDir, 'non-core'),
      arch: job.kernel.arch,
      workDir: join(c.scratch, 'work'),
      output: c.outFile,
      headers: headers.trees,
      configHeader: await renderKbuildConfig(config),
      ...(libbpf.dir === undefined ? {} : { libbpfIncludeDir: libbpf.dir }),
    },
    c.signal,
  );
  const kernelHasBtf = await kernelConfigHasBtf(headers.trees.flavour);
  return {
    ...(kernelHasBtf === undefined ? {} : { kernelHasBtf }),
    downloaded: !headers.fromCache,
    sources: [...headers.packages.map(sourcePackage), ...libbpf.packages.map(sourcePackage)],
    buildConfig: {
      linuxVersionCode: config.versionCode,
      maxPathComponents: config.maxPathComponents,
      defines: Object.fromEntries(config.defines.map((d) => [d.name, d.value])),
    },
    warnings: warningsOf(result),
  };
}

export async function buildCoreObject(job: CoreJob, c: CompileContext): Promise<BuiltObject> {
  c.stage('fetch');
  // A project that brings its own vmlinux.h for this arch (or needs none) needs no kernel image.
  const none = job.probe.vmlinux === 'none';
  const own = none ? undefined : (job.probe.vmlinux as Exclude<ProbeSpec['vmlinux'], 'none'>)[job.arch];
  const image = own === undefined && !none ? await c.builder.fetchImage(job.btfKernel, c.context) : undefined;
  const vmlinuxDir = none ? undefined : image === undefined ? await ownVmlinux(c, own!) : await imageBtfEntry(c.context.cacheDir, image, job.arch);
  const libbpf = await libbpfHeadersFor(job.probe, c.probeDir, job.arch, c.context);
  const uapi = job.probe.uapi === false ? undefined : await uapiHeaders(job.arch, c.context, job.probe.uapi === 'libc');
  c.stage('compile');
  const result = await compileCore(
    c.executor,
    {
      probeDir: c.probeDir,
      sources: job.probe.sources,
      options: probeOptions(job.probe, c.probeDir, 'core'),
      arch: job.arch,
      workDir: join(c.scratch, 'work'),
      output: c.outFile,
      ...(vmlinuxDir === undefined ? {} : { vmlinuxDir }),
      ...(uapi === undefined ? {} : { uapiDirs: uapi.dirs, uapiDefines: uapi.defines }),
      ...(libbpf.dir === undefined ? {} : { libbpfIncludeDir: libbpf.dir }),
    },
    c.signal,
  );
  const packages = [...(image === undefined ? [] : [image.package]), ...libbpf.packages, ...(uapi?.packages ?? [])];
  return { downloaded: image?.fromCache === false, sources: packages.map(sourcePackage), warnings: warningsOf(result) };
}

/**
 * The project's own vmlinux.h for this arch: its folder when the file is named
 * vmlinux.h (it may include siblings, as Falco's per-arch dispatcher does),
 * else a copy under that name alone in a folder.
 */
async function ownVmlinux(c: CompileContext, own: string): Promise<string> {
  if (basename(own) === 'vmlinux.h') return dirname(join(c.probeDir, own));
  const dir = join(c.scratch, 'vmlinux');
  await mkdir(dir, { recursive: true });
  await copyFile(join(c.probeDir, own), join(dir, 'vmlinux.h'));
  return dir;
}

function warningsOf(result: CompileResult): string {
  return result.warnings.slice(0, 16384);
}

export function sourcePackage(ref: PackageRef): IndexSourcePackage {
  return { name: ref.name, version: ref.version, sha256: ref.sha256 };
}
