import { NotSupportedError } from '../errors.js';
import { buildConfig } from './build-config.js';
import type { BuiltObject, CompileContext } from './compile-job.js';
import { sourcePackage } from './compile-job.js';
import { kernelConfigHasBtf } from '../btf/kernel-config.js';
import { compileWithKbuild } from './recipes/kernel-kbuild.js';
import type { NonCoreJob } from './types.js';

/**
 * driverkit's way: the probe's own Makefile run by the kernel's build system
 * (make -C <build tree> M=<root>/<dir>) against each kernel's build tree, with
 * whatever feature probes it runs. The build tree comes from the distro's
 * builder (Debian: headers + -common + linux-kbuild host tools).
 */
export async function compileKbuildProbe(job: NonCoreJob, c: CompileContext): Promise<BuiltObject> {
  const recipe = job.probe.kbuild!;
  if (c.builder.fetchBuildTree === undefined) {
    throw new NotSupportedError(`probe "${job.probe.name}": the ${job.kernel.distro} builder cannot fetch kernel build trees (kbuild recipe)`);
  }
  if (c.executor.name !== 'local') {
    // The builder image carries clang and libbpf only: no make, host compiler or the libraries linux-kbuild's tools need.
    throw new NotSupportedError(`probe "${job.probe.name}": builds with the kernel's build system run on the host only (executor: local), not in the ${c.executor.name} builder image`);
  }
  const tree = await c.builder.fetchBuildTree(job.kernel, c.context);
  c.stage('compile');
  const result = await compileWithKbuild(
    c.executor,
    {
      projectDir: c.probeDir,
      dir: recipe.dir,
      arch: job.kernel.arch,
      buildDir: tree.buildDir,
      buildRoot: tree.root,
      makeArgs: recipe.makeArgs,
      objectName: recipe.object,
      workDir: c.scratch,
      output: c.outFile,
    },
    c.signal,
  );
  const config = buildConfig(job.kernel.release, undefined, []);
  const kernelHasBtf = await kernelConfigHasBtf(tree.buildDir);
  return {
    ...(kernelHasBtf === undefined ? {} : { kernelHasBtf }),
    downloaded: !tree.fromCache,
    sources: tree.packages.map(sourcePackage),
    buildConfig: { linuxVersionCode: config.versionCode, maxPathComponents: config.maxPathComponents, defines: {} },
    warnings: result.warnings.slice(0, 16384),
  };
}

