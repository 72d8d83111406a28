import { bpfLoad } from './checks/bpf-load.js';
import { bpftool } from './checks/bpftool.js';
import { btfVmlinux } from './checks/btf-vmlinux.js';
import { clang } from './checks/clang.js';
import { crossGcc } from './checks/cross-gcc.js';
import { debianMirror } from './checks/debian-mirror.js';
import { docker } from './checks/docker.js';
import { libbpfHeaders } from './checks/libbpf-headers.js';
import { llc } from './checks/llc.js';
import { llvmStrip } from './checks/llvm-strip.js';
import { opt } from './checks/opt.js';
import { pahole } from './checks/pahole.js';
import { qemuArm64, qemuX86 } from './checks/qemu.js';
import { redis } from './checks/redis.js';
import { sharedStore } from './checks/shared-store.js';
import { store } from './checks/store.js';
import type { DoctorCheck } from './types.js';

/** Every check, in the order they are printed: toolchain, verification, services, this host. */
export const CHECKS: readonly DoctorCheck[] = [
  clang, llc, opt, llvmStrip, libbpfHeaders, bpftool, pahole, debianMirror,
  qemuX86, qemuArm64, crossGcc,
  docker, redis, store, sharedStore,
  bpfLoad, btfVmlinux,
];
