/**
 * vmlinux.h for CO-RE compiles, generated from the BTF of a real kernel of
 * the target arch (the build machine's own /sys/kernel/btf/vmlinux is the
 * wrong arch half of the time).
 */
import { ArchiveError } from '../errors.js';
import { run } from '../exec/exec.js';
import { writeFileAtomically } from '@kbuild/loader/internal';

const BPFTOOL_TIMEOUT_MS = 120_000;

export async function generateVmlinuxHeader(btfPath: string, outPath: string): Promise<void> {
  const { stdout } = await run('bpftool', ['btf', 'dump', 'file', btfPath, 'format', 'c'], {
    timeoutMs: BPFTOOL_TIMEOUT_MS,
  });
  // bpftool prints its include guard first; anything else means it did not dump a header.
  if (!stdout.startsWith('#ifndef __VMLINUX_H__')) {
    throw new ArchiveError(`bpftool did not produce a vmlinux.h from ${btfPath}`);
  }
  // Readers (parallel compiles) never see half a header.
  await writeFileAtomically(outPath, stdout);
}
