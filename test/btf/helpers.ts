import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianBuilder } from '../../builders/debian/index.js';
import { imageBtfEntry } from '../../src/btf/image-btf.js';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { LocalExecutor } from '../../src/executor/local.js';
import { compileCore } from '../../src/job/compile.js';
import type { Arch, KernelIdentity } from '../../src/kernel/identity.js';

export const PROBE_DIR = fileURLToPath(new URL('../../probes/execve', import.meta.url));

/** The example probe's CO-RE object, compiled the way the farm does against a real kernel image's vmlinux.h. */
export async function compileExampleCore(kernel: KernelIdentity, dir: string, arch: Arch = kernel.arch): Promise<string> {
  const image = await debianBuilder.fetchImage(kernel, { cacheDir: cacheRoot() });
  const vmlinuxDir = await imageBtfEntry(cacheRoot(), image, kernel.arch);
  const workDir = join(dir, `work-${arch}`);
  await mkdir(workDir, { recursive: true });
  const output = join(dir, `execve-${arch}.core.o`);
  await compileCore(new LocalExecutor(), { probeDir: PROBE_DIR, entry: 'execve.bpf.c', arch, workDir, output, vmlinuxDir });
  return output;
}
