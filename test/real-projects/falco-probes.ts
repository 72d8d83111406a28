/**
 * Falco's two drivers (falcosecurity-libs 0.20.0) as kernels.yaml probe
 * entries: shared by falco.test.ts (build only), verify-corpus.test.ts
 * (build and verify) and docs/real-projects.md.
 */
/** The whole upstream tree is the root (as when kernels.yaml sits beside a libs checkout); what the drivers never read stays home. */
const ROOT = `    root: libs
    exclude: ["userspace/**", "test/**", "benchmark/**", "docs/**", "proposals/**", "cmake/**", "semgrep/**", "tools/**"]
`;

/** driver/driver_config.h.in's values as Debian's build sets them: API_VERSION 8.0.3, SCHEMA_VERSION 3.5.0, DRIVER_VERSION the upstream version, names the defaults, no git commit in a tarball. */
const DRIVER_CONFIG_VALUES = `        values:
          PPM_API_CURRENT_VERSION_MAJOR: 8
          PPM_API_CURRENT_VERSION_MINOR: 0
          PPM_API_CURRENT_VERSION_PATCH: 3
          PPM_SCHEMA_CURRENT_VERSION_MAJOR: 3
          PPM_SCHEMA_CURRENT_VERSION_MINOR: 5
          PPM_SCHEMA_CURRENT_VERSION_PATCH: 0
          DRIVER_VERSION: "0.20.0"
          DRIVER_NAME: scap
          DRIVER_DEVICE_NAME: scap
          GIT_COMMIT: ""
`;

/**
 * How libpman (userspace/libpman/src) loads driver/modern_bpf, as a verify
 * policy: it sizes auxiliary_maps and counter_maps to the possible CPUs and
 * ringbuf_maps (an array of maps declared without an inner map) to one ring
 * buffer per CPU, each 8 MiB (DEFAULT_DRIVER_BUFFER_BYTES_DIM), handing libbpf
 * an inner ring buffer first (ringbuffer.c); it attaches only the programs
 * under programs/attached and puts the rest in its prog-arrays at run time:
 * the 329 tail-called syscall programs (all named *_e or *_x), and the
 * dispatchers' extra tail calls t1_*, t2_* and t_hotplug.
 */
export const MODERN_VERIFY = `    verify:
      attach: { skip: ["*_e", "*_x", "t1_*", "t2_*", t_hotplug] }
      maps:
        auxiliary_maps: { maxEntries: cpus }
        counter_maps: { maxEntries: cpus }
        ringbuf_maps: { maxEntries: cpus, inner: { type: ringbuf, maxEntries: 8388608 } }
`;

/**
 * What verification found: on Debian's 6.12 kernels the verifier rejects
 * 0.20.0's signal_deliver ("R5 invalid mem access 'scalar'" reading
 * info->_sifields after the NULL check): those kernels treat raw tracepoint
 * arguments as maybe-NULL, the change Falco's users met on 6.6.57 and later.
 * A user who ships 0.20.0 there leaves that one program out (libpman can run
 * without it); this rule says so, and the test proves the rejection itself
 * with the policy without it.
 */
export const MODERN_VERIFY_612_RULE = `      kernels: [{ when: ">=6.12", autoload: { disable: [signal_deliver] } }]
`;

/**
 * driver/modern_bpf/CMakeLists.txt: every *.bpf.c compiled with
 * `-target bpf -D__${DEBUG}__ -D__TARGET_ARCH_<arch> -D__USE_VMLINUX__
 * -I<libbpf> -I driver/modern_bpf -I <libs root>` (DEBUG empty: `-D____`),
 * then linked with `bpftool gen object`; driver_config.h is written into the
 * source tree. The sources include <definitions/vmlinux.h>, which picks the
 * shipped per-arch vmlinux.h, so that is the vmlinux named here. Host
 * headers are on upstream's path (<asm-generic/errno.h>): kbuild's UAPI
 * headers stand in for them. libbpf 1.5.0 is trixie's (Debian builds with
 * it); bookworm's 1.1 lacks PT_REGS_PARM6_CORE_SYSCALL.
 */
export const MODERN_YAML = `probes:
  - name: falco-modern
${ROOT}    sources: ["driver/modern_bpf/**/*.bpf.c"]
    builds: [core]
    includes: [driver/modern_bpf, "."]
    defines: { ____: true, __USE_VMLINUX__: true }
    vmlinux: driver/modern_bpf/definitions/vmlinux.h
    libbpf: { debian: "1.5.0" }
    verify: false
    configure:
      - from: driver/driver_config.h.in
        to: driver/driver_config.h
${DRIVER_CONFIG_VALUES}kernels:
  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64 }
  - { distro: debian, release: 6.12.117+deb13-cloud-amd64, arch: x86_64 }
  - { distro: debian, release: 6.1.0-50-arm64, arch: arm64 }
  - { distro: debian, release: 5.10.0-32-cloud-amd64, arch: x86_64, btf: false }
btf:
  sources: [image]
`;

/**
 * How libscap's own ELF loader (userspace/libscap/engine/bpf/scap_bpf.c)
 * loads driver/bpf, as a verify policy for the legacy guest loader (libbpf
 * 0.3, which still opens SEC("maps") objects): load_maps() sizes perf_map,
 * local_state_map, frame_scratch_map and tmp_scratch_map to the CPUs; every
 * raw_tracepoint/filler/* program is loaded and stored in tail_map, never
 * attached; the probes (BPF_PROBE in probe.c) are attached to the raw
 * tracepoint their section names with any "&N" cut off
 * (fill_attached_prog_info, attached_prog.c: the fork probe's section is
 * raw_tracepoint/sched_process_fork&2), which attach.targets says.
 * sched_process_fork and sched_process_exec exist only where the driver
 * captures them (arm64).
 */
export const LEGACY_VERIFY = `    verify:
      attach:
        only: [bpf_sys_enter, bpf_sys_exit, bpf_sched_process_exit, bpf_sched_switch, bpf_page_fault_user, bpf_page_fault_kernel, bpf_signal_deliver, bpf_sched_process_fork, bpf_sched_process_exec]
        targets: { bpf_sched_process_fork: sched_process_fork }
      maps:
        perf_map: { maxEntries: cpus }
        local_state_map: { maxEntries: cpus }
        frame_scratch_map: { maxEntries: cpus }
        tmp_scratch_map: { maxEntries: cpus }
`;

/**
 * driver/CMakeLists.txt and driver/bpf/CMakeLists.txt install one flat folder:
 * the probe's files, every driver/*.h beside them, driver_config.h, and per
 * feature probe configure/<M>/ with the shared Makefile and build.sh and
 * Makefile.inc from Makefile.inc.in (@CONFIGURE_MODULE@ = M); the probe's
 * Makefile finds those Makefile.inc files and runs them at make time.
 */
export const LEGACY_YAML = `probes:
  - name: falco-bpf
${ROOT}    builds: [non-core]
    verify: false
    kbuild: { dir: driver/bpf, object: probe.o }
    copy:
      - { from: "driver/*.h", to: driver/bpf }
      - { from: driver/bpf/configure/Makefile, to: driver/bpf/configure/RSS_STAT_ARRAY }
      - { from: driver/bpf/configure/build.sh, to: driver/bpf/configure/RSS_STAT_ARRAY }
      - { from: driver/bpf/configure/Makefile, to: driver/bpf/configure/TASK_PIDS_FIELD }
      - { from: driver/bpf/configure/build.sh, to: driver/bpf/configure/TASK_PIDS_FIELD }
    configure:
      - from: driver/driver_config.h.in
        to: driver/bpf/driver_config.h
${DRIVER_CONFIG_VALUES}      - from: driver/bpf/configure/Makefile.inc.in
        to: driver/bpf/configure/RSS_STAT_ARRAY/Makefile.inc
        values: { CONFIGURE_MODULE: RSS_STAT_ARRAY }
      - from: driver/bpf/configure/Makefile.inc.in
        to: driver/bpf/configure/TASK_PIDS_FIELD/Makefile.inc
        values: { CONFIGURE_MODULE: TASK_PIDS_FIELD }
kernels:
  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64, btf: true }
  - { distro: debian, release: 6.12.117+deb13-cloud-amd64, arch: x86_64, btf: true }
  - { distro: debian, release: 6.1.0-50-arm64, arch: arm64, btf: true }
  - { distro: debian, release: 5.10.0-32-cloud-amd64, arch: x86_64, btf: false }
`;
