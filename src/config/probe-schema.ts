import { z } from 'zod';
import { CFlags } from './cflags.js';
import { ATTACH_TARGET, CPU_COUNT, INNER_MAP_TYPES, MAX_MAP_ENTRIES, PROGRAM_TYPES, TRIGGERS } from '../verify/policy-names.js';

/**
 * The `probes` section of kernels.yaml: what users bring. A probe is a
 * project folder (`root`) whose whole tree travels to the builds, the sources
 * compiled from it (several are linked into one object), and how: include
 * folders, defines, per-kind flags, the BPF ISA, which vmlinux.h and libbpf
 * headers, or the kernel's own build system (driverkit's way). Every string
 * that becomes a path or a compiler argument is checked here first.
 */

export const ProbeName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a probe name: lowercase letters, digits and "-" (no "_", it separates name parts)')
  .refine((name) => !RESERVED_PROBE_NAMES.has(name), { message: 'is a reserved folder name (core, btf, index, bundles)' });
const RESERVED_PROBE_NAMES = new Set(['core', 'btf', 'index', 'bundles']);

export const DefineValue = z.union([
  z.number().int(),
  z.string().regex(/^(-?[0-9]+|[A-Za-z_][A-Za-z0-9_]*)$/, 'an integer or a C identifier'),
]);

export const Tweak = z.strictObject({
  when: z
    .string()
    .regex(/^(<|<=|>|>=|==)\s*[0-9]+\.[0-9]+(\.[0-9]+)?$/, 'a kernel version condition such as ">=5.8" or "<5.5"')
    .optional()
    .describe('Apply only to kernels whose version matches'),
  defines: z
    .record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an upper-case C macro name'), DefineValue)
    .describe('Extra #define NAME VALUE lines in the per-kernel build configuration'),
});

/** A program name or a glob of them (`handle_*`): C identifier characters, `*` and `?`. */
export const ProgramGlob = z.string().regex(/^[A-Za-z_*?][A-Za-z0-9_*?]{0,127}$/, 'a program name or glob (letters, digits, _, * and ?)');
const ProgramGlobs = z.array(ProgramGlob).max(64);

/** Policy for the kernels a rule matches: the probe's own loader attaches differently there. */
export const VerifyKernelPolicy = z.strictObject({
  when: z
    .string()
    .regex(/^(<|<=|>|>=|==)\s*[0-9]+\.[0-9]+(\.[0-9]+)?$/, 'a kernel version condition such as ">=5.8" or "<5.5"')
    .optional()
    .describe('Kernels whose version matches'),
  arch: z.enum(['x86_64', 'arm64']).optional().describe('Kernels of this arch'),
  attach: z.strictObject({ skip: ProgramGlobs.optional(), optional: ProgramGlobs.optional(), only: ProgramGlobs.optional() }).optional(),
  autoload: z.strictObject({ disable: ProgramGlobs.optional(), maps: ProgramGlobs.optional(), optional: ProgramGlobs.optional() }).optional(),
  mode: z
    .enum(['non-core', 'core-kernel-btf', 'core-external-btf'])
    .optional()
    .describe('Cases of this mode only (core-external-btf: a CO-RE object relocated against an external BTF)'),
  verify: z
    .literal(false)
    .optional()
    .describe('Not verified where the rule applies (the project does not run its objects there): reported not-verifiable with the reason'),
});

/** Where a program attaches when its section name does not say it right: a raw tracepoint or kprobe name, or "category/name" of a tracepoint. */
export const AttachTarget = z.string().regex(ATTACH_TARGET, 'a tracepoint ("category/name"), raw tracepoint or kernel function name');

/** A BPF map's name as libbpf knows it (C identifier; `.` for `.rodata`-style maps). */
export const MapName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]{0,127}$/, 'a BPF map name (letters, digits, _ and .)');
export const MapEntryCount = z.union([z.number().int().min(1).max(MAX_MAP_ENTRIES), z.string().regex(CPU_COUNT, 'a number, "cpus", "cpus*N" or "cpus*cpus"')]);
export const MapPolicy = z
  .strictObject({
    maxEntries: MapEntryCount.optional().describe('max_entries to set before the load: a count, or "cpus", "cpus*N", "cpus*cpus" (in the guest\'s possible CPUs)'),
    inner: z
      .strictObject({
        type: z.enum(INNER_MAP_TYPES),
        keySize: z.number().int().min(0).max(512).optional().describe('Bytes (default 4; 0 for ringbuf)'),
        valueSize: z.number().int().min(0).max(65536).optional().describe('Bytes (default 4; 0 for ringbuf)'),
        maxEntries: MapEntryCount.describe('For ringbuf: bytes, a power of two and a multiple of the page size'),
      })
      .optional()
      .describe('The inner map the project\'s loader creates for a map-in-map declared without an inner template'),
  })
  .refine((m) => m.maxEntries !== undefined || m.inner !== undefined, 'give maxEntries, inner or both');

/** A record whose keys are checked with `key`'s own message (zod's record says only "Invalid key in record"), at most `max` entries. */
function checkedRecord<V extends z.ZodType>(key: z.ZodString, value: V, max: number) {
  return z.record(z.string(), value).superRefine((record, ctx) => {
    const keys = Object.keys(record);
    if (keys.length > max) ctx.addIssue({ code: 'custom', message: `at most ${max} entries` });
    for (const k of keys) {
      const parsed = key.safeParse(k);
      if (!parsed.success) ctx.addIssue({ code: 'custom', path: [k], message: parsed.error.issues[0]?.message ?? 'not a valid name' });
    }
  });
}

/**
 * How `kbuild verify` proves a probe works inside a booted kernel. The proof
 * is load + attach: the verifier accepts every autoloaded program and every
 * program that should be attached attaches (programs the object places in a
 * prog-array, and sections libbpf has no attach target for, are loaded but
 * not attached). `attach.skip`: load but do not attach (tail-call targets the
 * project's loader wires up); `attach.only`: attach these, load the rest;
 * `attach.optional`: an attach failure is
 * reported, not failed (a tracepoint one arch lacks); `autoload.disable`: not
 * loaded at all (bpf_program__set_autoload false, as the project's loader
 * does); `autoload.optional`: left out of a second load when the first fails
 * (a loader that retries without its optional programs). The event check is opt-in: with `trigger`, `count` or `counterMap`,
 * the guest triggers the event `count` times (default 5) and reads
 * `counterMap` (default `<probe>_count`, "-" as "_"; key 0 → counter),
 * which must reach `count`. `kernels` adds policy for some kernels (`when`
 * a version condition, `arch`). Before the load the guest does what the
 * project's loader does: `maps` sizes maps left at max_entries 0 and creates
 * the inner map of a map-in-map; `programTypes` sets the type of programs
 * whose section names none. `false`: not verified (reported not-verifiable).
 */
export const ProbeVerify = z.union([
  z.literal(false),
  z.strictObject({
    trigger: z
      .enum(TRIGGERS)
      .optional()
      .describe('Event check: what the guest does after attaching (execve a short-lived program, command: a short command, fork/execve/open/read/write/exit, open a file, connect on loopback, a UDP packet over lo)'),
    count: z.number().int().min(1).max(1000).optional().describe('Event check: how many times to trigger (default 5)'),
    counterMap: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a BPF map name (a C identifier)')
      .optional()
      .describe('Event check: map whose key 0 counts the events, or a ring buffer whose records are the events (default: <probe>_count, "-" as "_")'),
    attach: z
      .strictObject({
        skip: ProgramGlobs.optional().describe('Programs loaded but not attached (tail-call targets)'),
        optional: ProgramGlobs.optional().describe('Programs whose attach failure is reported, not failed'),
        only: ProgramGlobs.optional().describe('Only these are attached, the rest loaded (a project that attaches its dispatchers and tail-calls the rest)'),
        targets: checkedRecord(ProgramGlob, AttachTarget, 64)
          .optional()
          .describe('Attach target by program name or glob, where the project\'s loader does not take it from the section name (raw tracepoint, tracepoint "category/name", or kprobe function: a kprobe.multi program is attached to it as a multi-kprobe)'),
      })
      .optional(),
    autoload: z
      .strictObject({
        disable: ProgramGlobs.optional().describe('Programs left out of the load (bpf_program__set_autoload false)'),
        maps: ProgramGlobs.optional().describe('Maps left out of the load (bpf_map__set_autocreate false), with the programs that use them'),
        optional: ProgramGlobs.optional().describe(
          "Programs the project's loader drops when the load fails, then loads again without them (bpftune's optional programs: a function a kernel inlined)",
        ),
      })
      .optional(),
    maps: checkedRecord(MapName, MapPolicy, 64)
      .optional()
      .describe('Maps the project\'s loader sizes before loading, by name: max_entries and the inner map of a map-in-map'),
    programTypes: checkedRecord(ProgramGlob, z.enum(PROGRAM_TYPES), 64)
      .optional()
      .describe('Program type by program name or glob, for sections that name none (libbpf\'s names: socket_filter, xdp, sched_cls, ...)'),
    kernels: z.array(VerifyKernelPolicy).max(32).optional().describe('More of the same policy for some kernels only (by version and arch), added to the above'),
  }),
]);

const SEGMENT = '[A-Za-z0-9_+@][A-Za-z0-9_.+@-]*';
/** A relative path inside the probe's root: no "..", no absolute path, no hidden tricks. */
export const RelPath = z
  .string()
  .max(512)
  .regex(new RegExp(`^${SEGMENT}(/${SEGMENT})*$`), 'a relative path inside the probe root (letters, digits, "_.+@-", no "..")')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."');
/** A folder inside the root; "." is the root itself. */
export const RelDir = z.union([z.literal('.'), RelPath]);
/** A source path or a glob of them ("programs/**\/*.bpf.c"), relative to the root. */
export const SourcePattern = z
  .string()
  .max(512)
  .regex(/^[A-Za-z0-9_+@*?{[][A-Za-z0-9_.+@*?{}[\],/!-]*\.c$/, 'a relative path or glob of .c files, e.g. "src/x.bpf.c" or "programs/**/*.bpf.c"')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."');

export const BUILD_KINDS = ['non-core', 'core'] as const;
export const BuildKind = z.enum(BUILD_KINDS);

export const Mcpu = z.enum(['v1', 'v2', 'v3', 'v4']);

/** A C macro for both builds: `true` defines it without a value. */
export const ProbeDefineValue = z.union([
  z.literal(true),
  z.number().int(),
  z.string().max(256).regex(/^[^\0-\x1f\x7f]*$/, 'printable text on one line'),
]);
export const MacroName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'a C macro name');

/** A Debian libbpf-dev version: "1.5.0" (upstream) or "1:1.5.0-1" (Debian's full version). */
export const DebianVersion = z.string().max(64).regex(/^([0-9]+:)?[0-9][A-Za-z0-9.+~]*(-[A-Za-z0-9.+~]+)?$/, 'a Debian package version such as "1.5.0" or "1:1.5.0-1"');

export const LibbpfChoice = z.union([
  z.literal('host').describe("This machine's (or the builder image's) /usr/include/bpf"),
  z.strictObject({ debian: DebianVersion.describe('libbpf-dev of this version, fetched from the Debian archive and checked') }),
  z.strictObject({ dir: RelPath.describe('A folder under the root holding bpf/bpf_helpers.h, or bpf_helpers.h itself (a vendored libbpf/src)') }),
]);

export const VmlinuxChoice = z.union([
  z.literal('kbuild').describe("Generated by kbuild from the BTF of core.btfFrom's kernel, per arch"),
  z.literal('none').describe('No vmlinux.h: a program written against UAPI headers only (<linux/bpf.h>, ...), built once per arch'),
  RelPath.describe('One vmlinux.h under the root, for every arch'),
  z.strictObject({ x86_64: RelPath.optional(), arm64: RelPath.optional() }).describe('A vmlinux.h per arch (an arch left out gets kbuild\'s)'),
]);

/**
 * UAPI headers for CO-RE builds. `libc` adds glibc's headers (<errno.h>,
 * <stdint.h>, <netinet/in.h>: systemd's programs include them) and the arch's
 * compiler macro (__x86_64__, __aarch64__) glibc's headers test, as
 * `clang -target bpf` on a Debian host with libc6-dev sees them.
 */
export const UapiChoice = z.union([z.boolean(), z.literal('libc')]);

/** cmake's configure_file: "@NAME@" and "${NAME}" replaced, "#cmakedefine NAME" resolved. */
export const ConfigureFile = z.strictObject({
  from: RelPath.describe('Template under the root, e.g. driver_config.h.in'),
  to: RelPath.describe('File written beside the sources before compiling, e.g. driver_config.h'),
  values: z.record(MacroName, z.union([z.string().max(1024).regex(/^[^\0\n\r]*$/, 'one line of text'), z.number(), z.boolean()])).default({}),
});

/**
 * Files put in place before building, as a project's own install step does
 * (Falco's CMake lays its driver headers beside the legacy probe's sources):
 * every file under the root matching `from` is copied into the folder `to`.
 */
export const CopyFiles = z.strictObject({
  from: z
    .string()
    .max(512)
    .regex(/^[A-Za-z0-9_+@*?{[][A-Za-z0-9_.+@*?{}[\],/!-]*$/, 'a relative path or glob under the root, e.g. "*.h"')
    .refine((p) => !p.split('/').includes('..'), 'must not contain ".."')
    .describe('Files under the root (a glob)'),
  to: RelDir.describe('Folder under the root they are copied into'),
});

/** Built by the kernel's own build system: `make -C <kernel build tree> M=<root>/<dir>` per kernel. */
export const KbuildRecipe = z.strictObject({
  dir: RelDir.describe('Folder under the root holding the Kbuild Makefile'),
  object: RelPath.describe('The object make produces, relative to dir (e.g. probe.o)'),
  makeArgs: z
    .array(z.string().max(512).regex(/^[A-Za-z_][A-Za-z0-9_]*=[A-Za-z0-9_.,:+=@%/ -]*$/, 'VAR=value (letters, digits and "_.,:+=@%/ -")'))
    .default([])
    .describe('Extra make variables, e.g. ["DRIVER_NAME=falco"]'),
});

export const Probe = z
  .strictObject({
    name: ProbeName.describe("Probe name: part of every artifact's file name (<probe>/<arch>/<probe>_<distro>_<release>.o)"),
    root: z.union([z.literal('.'), RelPath]).optional().describe("Project folder, relative to the kernels file; everything under it travels to the builds (default: the folder of `source`)"),
    source: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_./-]*\.c$/, 'a relative path to a .c file')
      .optional()
      .describe('One source file, relative to the kernels file (the single-file form; see `sources`)'),
    sources: z.array(SourcePattern).min(1).max(64).optional().describe('Sources relative to root (globs allowed), each compiled, then linked into one object with `bpftool gen object`'),
    exclude: z.array(z.string().max(256)).max(64).default([]).describe('Globs (relative to root) of files that do not travel, e.g. "build/**"'),
    builds: z
      .array(BuildKind)
      .min(1)
      .refine((l) => new Set(l).size === l.length, 'lists a build twice')
      .optional()
      .describe('Which objects to build: non-core (per kernel) and/or core (per arch); a CO-RE-only program says [core] (default: both; [non-core] for a `kbuild` probe without `sources`)'),
    includes: z.array(RelDir).max(64).default([]).describe('Folders under root on the include path (both "..." and <...>), in this order'),
    defines: z.record(MacroName, ProbeDefineValue).default({}).describe('-DNAME=value for both builds (true: -DNAME)'),
    cflags: z
      .union([CFlags, z.strictObject({ 'non-core': CFlags.optional(), core: CFlags.optional() })])
      .optional()
      .describe('Extra compiler flags (for both builds, or per build kind); output, plugin, response-file and path flags are refused'),
    mcpu: Mcpu.default('v1').describe('BPF instruction set (clang/llc -mcpu); v3 needs kernel 5.1+'),
    vmlinux: VmlinuxChoice.default('kbuild').describe('vmlinux.h of the CO-RE build'),
    libbpf: LibbpfChoice.default('host').describe('libbpf headers (bpf/bpf_helpers.h, ...) on the <...> path'),
    uapi: UapiChoice.default(true).describe(
      'CO-RE builds: UAPI headers (<linux/...>, <asm/...>) from Debian\'s linux-libc-dev of the arch, after everything else; "libc": glibc\'s too (libc6-dev), as a hosted -target bpf build sees them',
    ),
    copy: z.array(CopyFiles).max(64).default([]).describe('Files copied into place before compiling (an install step), in order'),
    configure: z.array(ConfigureFile).max(64).default([]).describe('Files generated before compiling (after `copy`), as cmake configure_file does'),
    kbuild: KbuildRecipe.optional().describe("Build the non-CO-RE object with the kernel's build system (make -C <kernel build tree> M=<dir>)"),
    tweaks: z.array(Tweak).default([]).describe('Probe-specific build tweaks by kernel version (kbuild_config.h)'),
    verify: ProbeVerify.optional().describe(
      'How a QEMU boot proves the probe works: load + attach per program (default), attach.skip / attach.optional / autoload.disable policy, maps and programTypes set before the load, and an opt-in event check (trigger, count, counterMap); false: not checked',
    ),
  })
  .describe('One eBPF program or project, built per kernel (non-CO-RE) and/or once per arch (CO-RE)');

export type Probe = z.infer<typeof Probe>;
export type ProbeVerify = z.infer<typeof ProbeVerify>;
export type Tweak = z.infer<typeof Tweak>;
export type BuildKind = z.infer<typeof BuildKind>;
export type LibbpfChoice = z.infer<typeof LibbpfChoice>;
export type VmlinuxChoice = z.infer<typeof VmlinuxChoice>;
export type ConfigureFile = z.infer<typeof ConfigureFile>;
export type KbuildRecipe = z.infer<typeof KbuildRecipe>;
export type CopyFiles = z.infer<typeof CopyFiles>;
export type UapiChoice = z.infer<typeof UapiChoice>;
