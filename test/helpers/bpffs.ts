import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Loads every program of an object into this machine's kernel, pinned in a
 * private bpffs mount that is removed afterwards whatever happens.
 */
export async function loadIntoHostKernel(object: string, extraArgs: readonly string[] = []): Promise<{ ok: boolean; output: string; programs: string[] }> {
  const mount = await mkdtemp(join(tmpdir(), 'kbuild-bpffs-'));
  await execa('mount', ['-t', 'bpf', 'bpf', mount]);
  try {
    const pin = join(mount, 'progs');
    const load = await execa('bpftool', ['prog', 'loadall', object, pin, ...extraArgs], { reject: false });
    const listed = load.exitCode === 0 ? await execa('ls', [pin]) : undefined;
    return {
      ok: load.exitCode === 0,
      output: `${String(load.stdout)}${String(load.stderr)}`,
      programs: listed === undefined ? [] : String(listed.stdout).split('\n').filter((s) => s !== ''),
    };
  } finally {
    await rm(join(mount, 'progs'), { recursive: true, force: true }).catch(() => undefined);
    await execa('umount', [mount], { reject: false });
    await rm(mount, { recursive: true, force: true });
  }
}
