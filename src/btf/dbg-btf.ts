import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuilderContext, DistroBuilder, FetchedDebugPackage } from '../../builders/types.js';
import { extractDebMember } from '../archive/deb.js';
import { ensureEntry } from '../cache/content-cache.js';
import { KbuildError } from '../errors.js';
import { ExecError, run } from '../exec/exec.js';
import type { KernelIdentity } from '../kernel/identity.js';

export const DBG_BTF_FILE = 'vmlinux.btf';
const PAHOLE_TIMEOUT_MS = 20 * 60_000;

/**
 * Full BTF from the kernel's debug package: only the vmlinux is streamed out
 * of the package (never the 1.7 GB of modules' debug info), `pahole -J`
 * encodes its DWARF as BTF, and the vmlinux is deleted. The BTF is cached per
 * debug package (content-addressed by the package's sha256).
 */
export async function dbgBtf(
  builder: DistroBuilder,
  kernel: KernelIdentity,
  context: BuilderContext,
): Promise<{ path: string; debug: FetchedDebugPackage }> {
  if (builder.fetchDebugPackage === undefined) {
    throw new KbuildError('E_BTF_SOURCE', `the ${builder.distro} builder cannot fetch debug packages`);
  }
  const debug = await builder.fetchDebugPackage(kernel, context);
  const entry = await ensureEntry(context.cacheDir, 'btf-pahole', debug.package.sha256, async (dir) => {
    const vmlinux = join(dir, 'vmlinux');
    // A -dbg data.tar is ~1.7 GB: read as a stream (memory stays flat), past the limit for whole extractions.
    await extractDebMember(debug.path, debug.vmlinuxMember, vmlinux, { signal: context.signal, maxBytes: Number.MAX_SAFE_INTEGER });
    try {
      await paholeEncode(vmlinux, join(dir, DBG_BTF_FILE), context.signal);
    } finally {
      await rm(vmlinux, { force: true });
    }
  });
  return { path: join(entry.path, DBG_BTF_FILE), debug };
}

/** `pahole -J` into a detached file: the DWARF of vmlinux as raw BTF. */
export async function paholeEncode(vmlinux: string, out: string, signal?: AbortSignal): Promise<void> {
  try {
    await run('pahole', ['-J', `--btf_encode_detached=${out}`, vmlinux], {
      timeoutMs: PAHOLE_TIMEOUT_MS,
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (err) {
    if (err instanceof ExecError) {
      throw new KbuildError('E_BTF_SOURCE', `pahole could not encode BTF from ${vmlinux}: ${err.stderr.trim() || err.message}`, { cause: err });
    }
    throw err;
  }
}
