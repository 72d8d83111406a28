import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KbuildError, errorMessage } from '../../errors.js';
import { ExecError, run } from '../../exec/exec.js';
import type { CheckOutcome, DoctorCheck, DoctorContext } from '../types.js';

/**
 * Loads "r0 = 0; exit" as a socket filter through the bpf() syscall and
 * prints the errno: the most direct answer to "may this user load BPF here".
 * No libbpf, no bpffs, nothing pinned; the program is freed when the helper exits.
 */
const HELPER = `#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  struct bpf_insn insns[2] = {
    { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
    { .code = BPF_JMP | BPF_EXIT },
  };
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = (unsigned long)insns;
  attr.insn_cnt = 2;
  attr.license = (unsigned long)"GPL";
  long fd = syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  if (fd < 0) { int e = errno; printf("errno %d %s\\n", e, strerror(e)); return 1; }
  printf("loaded\\n");
  return 0;
}
`;

export const bpfLoad: DoctorCheck = {
  id: 'bpf-load',
  title: 'BPF load permission',
  required: (c) => c.purposes.has('load'),
  run: async (c) => {
    const dir = await mkdtemp(join(tmpdir(), 'kbuild-doctor-bpf-'));
    try {
      const helper = await compileHelper(dir, c);
      if (typeof helper !== 'string') return helper;
      let out: string;
      try {
        out = (await run(helper, [], { signal: c.signal, timeoutMs: 10_000 })).stdout;
      } catch (err) {
        out = err instanceof ExecError ? err.stdout : errorMessage(err);
      }
      if (/^loaded/m.test(out)) return { status: 'ok', detail: 'loaded a 2-instruction socket filter through bpf(BPF_PROG_LOAD)' };
      return refused(out.trim());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

async function compileHelper(dir: string, c: DoctorContext): Promise<string | CheckOutcome> {
  await writeFile(join(dir, 'load.c'), HELPER);
  const binary = join(dir, 'load');
  const errors: string[] = [];
  // cc if there is one, else clang (which builds need anyway); both need the libc headers.
  for (const compiler of ['cc', 'clang']) {
    try {
      await run(compiler, ['-O1', '-o', binary, join(dir, 'load.c')], { signal: c.signal, timeoutMs: 30_000 });
      return binary;
    } catch (err) {
      errors.push(err instanceof ExecError ? `${compiler}: ${err.stderr.trim().split('\n')[0] ?? ''}` : err instanceof KbuildError ? err.message : errorMessage(err));
    }
  }
  return { status: 'problem', detail: `cannot compile the load test (${errors.join('; ')})`, fix: 'apt-get install clang libc6-dev linux-libc-dev' };
}

async function refused(out: string): Promise<CheckOutcome> {
  const errno = /^errno (\d+) (.*)$/m.exec(out);
  if (errno?.[1] === '1' || errno?.[1] === '13') {
    const root = process.getuid?.() === 0;
    const sysctl = (await readFile('/proc/sys/kernel/unprivileged_bpf_disabled', 'utf8').catch(() => '')).trim();
    const why = root
      ? 'root without CAP_BPF/CAP_SYS_ADMIN (a container without those capabilities, or a seccomp profile blocking bpf())'
      : `not root and kernel.unprivileged_bpf_disabled=${sysctl || '?'}`;
    return {
      status: 'problem',
      detail: `the kernel refused BPF_PROG_LOAD with ${errno[1] === '1' ? 'EPERM' : 'EACCES'}: ${why}`,
      fix: root ? 'run with CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), e.g. docker run --cap-add BPF --cap-add PERFMON' : 'run as root, or grant CAP_BPF and CAP_PERFMON (setcap / systemd AmbientCapabilities)',
    };
  }
  return { status: 'problem', detail: `BPF_PROG_LOAD failed: ${out || 'no output'}`, fix: 'check that the kernel has CONFIG_BPF_SYSCALL=y' };
}
