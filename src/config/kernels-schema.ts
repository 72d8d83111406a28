import { z } from 'zod';
import { ARCHES } from '../kernel/identity.js';
import { releaseProblem } from '../kernel/release.js';
import { knownDistros } from './known-distros.js';
import { BTF_SOURCES } from '../btf/source-names.js';
import { Probe } from './probe-schema.js';

export { DefineValue, Probe, ProbeName, ProbeVerify, Tweak } from './probe-schema.js';

/**
 * The kernels.yaml format. Every object is strict so a misspelt field is an
 * error, not a silently ignored setting; names that end up in file names and
 * object keys are validated as tightly as the artifacts they name.
 */

export const DistroName = z.enum(knownDistros() as [string, ...string[]], {
  error: (issue) => `unknown distro ${JSON.stringify(issue.input)}, expected one of: ${knownDistros().join(', ')}`,
});

/** Mirror keys may name any distro family, including ones this version does not build. */
const MirrorDistro = z.string().regex(/^[a-z][a-z0-9]{1,31}$/, 'a distro name such as "debian"');

export const KernelRelease = z.string().superRefine((release, ctx) => {
  const problem = releaseProblem(release);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `release ${problem}` });
});

export const KernelVersion = z
  .string()
  .regex(/^[A-Za-z0-9#][A-Za-z0-9 #._:+~()-]{0,127}$/, 'a kernel version such as "1" or "#1 SMP Debian 6.1.176-1"');

/** `true`/`false` as the kernels file says, `auto` from the kernel's own configuration. */
export const KernelBtf = z.union([z.boolean(), z.literal('auto')]);

export const BtfSourceName = z.enum(BTF_SOURCES);

/**
 * Where the full BTF of a kernel without BTF comes from. An archive is a base
 * URL or a folder laid out like BTFHub's: <distro>/<version>/<arch>/<release>.btf.tar.xz.
 */
export const BtfSettings = z.strictObject({
  sources: z
    .array(BtfSourceName)
    .min(1)
    .refine((list) => new Set(list).size === list.length, 'lists a source twice')
    .default([...BTF_SOURCES])
    .describe('Sources tried in order: image (BTF inside the kernel image), dbg (debug package + pahole -J), archive'),
  archive: z
    .string()
    .max(1024)
    .refine((v) => /^\/[^\0]*$/.test(v) || /^https?:\/\/[^\s]+$/.test(v), 'an absolute folder path or an http(s) URL')
    .optional()
    .describe('BTFHub-style archive: a base URL or an absolute folder'),
});
/** Where a kernel's builds run: this machine's toolchain, or the distro's builder image. */
export const ExecutorKind = z.enum(['local', 'docker']);

export const KernelEntry = z.strictObject({
  distro: DistroName.describe('Distro whose archive has the kernel\'s headers and image (a builder under builders/)'),
  release: KernelRelease.describe('As `uname -r` prints it'),
  arch: z.enum(ARCHES).describe('CPU architecture; arm64 is cross-compiled on x86_64'),
  version: KernelVersion.optional().describe('As driverkit\'s kernelversion / `uname -v`'),
  btf: KernelBtf.default('auto').describe(
    'Whether the kernel exposes /sys/kernel/btf/vmlinux: false = CO-RE needs an external (minimized) BTF, auto = read CONFIG_DEBUG_INFO_BTF from its .config',
  ),
  distroVersion: z
    .string()
    .regex(/^[0-9][0-9.]{0,15}$/, 'a distro version such as "11" or "20.04"')
    .optional()
    .describe('Distro version for BTFHub-style archive paths (<distro>/<version>/<arch>/<release>.btf.tar.xz)'),
  executor: ExecutorKind.optional().describe('Build this kernel locally or in its distro\'s builder image (default: executors.<distro>, else local)'),
}).describe('One target kernel: gets a non-CO-RE object per probe and is a candidate for the CO-RE object');

export const KernelRef = z
  .strictObject({
    distro: DistroName.describe('Distro of a kernel listed under kernels'),
    release: KernelRelease.describe('Release of a kernel listed under kernels, as `uname -r` prints it'),
  })
  .describe('A kernel of the kernels list, by distro and release');

export const KernelsFile = z.strictObject({
  probes: z.array(Probe).min(1, 'at least one probe').describe('The eBPF programs to build (at least one)'),
  kernels: z.array(KernelEntry).min(1, 'at least one kernel').describe('The kernels to build for (at least one)'),
  core: z
    .strictObject({
      btfFrom: z
        .partialRecord(z.enum(ARCHES), KernelRef)
        .optional()
        .describe('Kernel whose BTF generates vmlinux.h per arch (default: the first kernel of that arch)'),
    })
    .optional()
    .describe('How the CO-RE object of each arch is built'),
  btf: BtfSettings.optional().describe('External BTF for kernels that lack their own (btf: false)'),
  executors: z
    .partialRecord(DistroName, ExecutorKind)
    .optional()
    .describe('Default executor per distro; a kernel\'s own `executor` and `kbuild build --executor` take precedence'),
  mirrors: z
    .record(MirrorDistro, z.url({ protocol: /^https?$/ }))
    .optional()
    .describe('Archive base URL per distro (default: from the host configuration)'),
});

export type KernelEntry = z.infer<typeof KernelEntry>;
export type KernelsFile = z.infer<typeof KernelsFile>;
export type BtfSettings = z.infer<typeof BtfSettings>;
export type ExecutorKind = z.infer<typeof ExecutorKind>;
