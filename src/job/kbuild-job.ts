import { NotSupportedError } from '../errors.js';
import type { BuiltObject, CompileContext } from './compile-job.js';
import type { NonCoreJob } from './types.js';

/** The kernel's own build system (make -C <build tree> M=<dir>): see src/job/recipes/kernel-kbuild.ts. */
export async function compileKbuildProbe(job: NonCoreJob, c: CompileContext): Promise<BuiltObject> {
  void c;
  throw new NotSupportedError(`probe "${job.probe.name}": builds with the kernel's build system are not wired in yet`);
}
