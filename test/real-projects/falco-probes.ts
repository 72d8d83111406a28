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
