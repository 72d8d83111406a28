import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/exec/exec.js';

/**
 * A tiny probe in Falco's driver/bpf style: a Kbuild Makefile whose custom
 * rule compiles with `$(CLANG) $(LINUXINCLUDE) ... -emit-llvm` and hands the
 * IR to `$(LLC) -march=bpf`, plus one try-compile feature probe evaluated at
 * make time (HAS_PID_FIELD), as Falco's configure/ modules are.
 */

const MAKEFILE = `always-y += tiny.o
always = $(always-y)
LLC ?= llc
CLANG ?= clang

# Feature probe: does struct task_struct have a pid field? Evaluated when Kbuild reads this file.
HAS_PID_FIELD := $(shell printf '#include <linux/sched.h>\\nint x = sizeof(((struct task_struct *)0)->pid);\\n' | \\
	$(CLANG) $(LINUXINCLUDE) -D__KERNEL__ -fsyntax-only -x c - >/dev/null 2>&1 && echo 1)
ifeq ($(HAS_PID_FIELD),1)
KBUILD_CPPFLAGS += -DHAS_PID_FIELD
endif

$(obj)/tiny.o: $(src)/tiny.c
	$(CLANG) $(LINUXINCLUDE) $(KBUILD_CPPFLAGS) $(TINY_FLAGS) -D__KERNEL__ -D__BPF_TRACING__ \\
		-Wno-address-of-packed-member -Wno-gnu-variable-sized-type-not-at-end -Wno-unknown-attributes \\
		-fno-stack-protector -fno-jump-tables -O2 -g -emit-llvm -c $< -o $(patsubst %.o,%.ll,$@)
	$(LLC) -march=bpf -filetype=obj -o $@ $(patsubst %.o,%.ll,$@)
`;

const SOURCE = `#include <linux/version.h>
#include <linux/sched.h>
#include <uapi/linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))
#ifndef HAS_PID_FIELD
#error "the feature probe did not run"
#endif
#ifndef TINY_VALUE
#error "TINY_FLAGS did not reach the compiler"
#endif

SEC("raw_tracepoint/sys_enter")
int tiny_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	return (int)sizeof(((struct task_struct *)0)->pid) + TINY_VALUE + (LINUX_VERSION_CODE > 0);
}

char _license[] SEC("license") = "GPL";
`;

/** Writes the probe into `dir` (created); make it with makeArgs ['TINY_FLAGS=-DTINY_VALUE=1']. */
export async function writeTinyKbuildProbe(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Makefile'), MAKEFILE);
  await writeFile(join(dir, 'tiny.c'), SOURCE);
}

/** e_machine of an ELF file (247 is EM_BPF). */
export async function elfMachine(path: string): Promise<number> {
  const file = await open(path, 'r');
  try {
    const { buffer } = await file.read(Buffer.alloc(20), 0, 20, 0);
    return buffer[5] === 2 ? buffer.readUInt16BE(18) : buffer.readUInt16LE(18);
  } finally {
    await file.close();
  }
}

/** Section names of an ELF file, from readelf. */
export async function elfSections(path: string): Promise<string[]> {
  const { stdout } = await run('readelf', ['-SW', path]);
  return [...stdout.matchAll(/^\s*\[\s*\d+\]\s+(\S+)/gm)].map((m) => m[1] ?? '');
}
