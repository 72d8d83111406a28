import { copyFile, mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { anySignal } from '../util/any-signal.js';
import { cpuSlots } from '../util/cpu-slots.js';
import { join } from 'node:path';
import type { HeaderTrees } from '../../builders/types.js';
import { CompileError, KbuildError } from '../errors.js';
import { ExecError } from '../exec/exec.js';
import type { BuildStep, Executor } from '../executor/types.js';
import { clangHostTriple, kernelSourceArch, targetArchMacro, type Arch } from '../kernel/identity.js';
import { writeAtomically } from '@kbuild/loader/internal';
import { CONFIG_HEADER_NAME } from './build-config.js';

/**
 * Compiles one probe into one BPF object. Non-CO-RE objects are built against
 * one kernel's headers in three steps (clang → opt → llc, see nonCoreSteps);
 * CO-RE objects in one clang call against an arch's vmlinux.h. Every path
 * that could end up in the object's debug info or BTF is remapped to a fixed
 * virtual path so the same inputs give the same bytes in any folder.
 */

export interface CompileInputBase {
  /** Folder holding the probe's sources (its root); read only. */
  readonly probeDir: string;
  /** The source file, relative to probeDir (e.g. "execve.bpf.c"); or `sources`. */
  readonly entry?: string;
  /** Several sources, each compiled, then linked into one object with `bpftool gen object`. */
  readonly sources?: readonly string[];
  /** The probe's own settings (kernels.yaml): include folders (absolute), -D arguments, extra flags, ISA. */
  readonly options?: ProbeCompileOptions;
  readonly arch: Arch;
  /** Private, writable folder for intermediate files (libbpf include link, IR). */
  readonly workDir: string;
  /** Where the object ends up; written under a temporary name and renamed. */
  readonly output: string;
  /** libbpf's installed headers (bpf_helpers.h, ...). */
  readonly libbpfIncludeDir?: string;
  readonly timeoutMs?: number;
}

export interface ProbeCompileOptions {
  readonly includes?: readonly string[];
  readonly defines?: readonly string[];
  readonly cflags?: readonly string[];
  readonly mcpu?: 'v1' | 'v2' | 'v3' | 'v4';
}

export interface NonCoreCompileInput extends CompileInputBase {
  readonly headers: HeaderTrees;
  /** Text of kbuild_config.h (renderKbuildConfig). */
  readonly configHeader: string;
}

export interface CoreCompileInput extends CompileInputBase {
  /** Folder holding vmlinux.h for `arch`; absent: a program of UAPI headers only. */
  readonly vmlinuxDir?: string;
  /** UAPI headers (linux/, asm/, asm-generic/), searched after everything else. */
  readonly uapiDirs?: readonly string[];
  /** -D flags those headers need (glibc's arch macro). */
  readonly uapiDefines?: readonly string[];
}

export interface CompileResult {
  readonly output: string;
  /** Compiler warnings, kept for the build log. */
  readonly warnings: string;
  readonly durationMs: number;
}

/** Layout of the work folder, shared by the step builders and the preparation. */
const LIBBPF_DIR = 'libbpf'; // holds only a `bpf` link: libbpf without the rest of /usr/include
const CONFIG_DIR = 'config';
const OBJECT = 'probe.o';
const DEFAULT_LIBBPF = '/usr/include/bpf';
const DEFAULT_TIMEOUT_MS = 120_000;

/** The warnings the kernel's samples/bpf silence: kernel headers trip them, probes don't. */
const KERNEL_HEADER_WARNINGS = [
  '-Wno-unused-value',
  '-Wno-pointer-sign',
  '-Wno-compare-distinct-pointer-types',
  '-Wno-gnu-variable-sized-type-not-at-end',
  '-Wno-address-of-packed-member',
  '-Wno-tautological-compare',
  '-Wno-unknown-warning-option',
  // 6.12's x86 headers: IBT's nocf_check attribute and __seg_gs per-cpu accessors.
  '-Wno-ignored-attributes',
  '-Wno-duplicate-decl-specifier',
];

/** kbuild's include order for one tree (LINUXINCLUDE + USERINCLUDE). */
function treeIncludes(tree: string, arch: Arch): string[] {
  const a = `arch/${kernelSourceArch(arch)}`;
  const dirs = [`${a}/include/generated`, `${a}/include`, `${a}/include/generated/uapi`, `${a}/include/uapi`,
    'include', 'include/uapi', 'include/generated/uapi'];
  return dirs.map((d) => `-I${join(tree, d)}`);
}

function prefixMaps(input: CompileInputBase, trees: Record<string, string>): string[] {
  const maps: Record<string, string> = { probe: input.probeDir, work: input.workDir, ...trees };
  return Object.entries(maps).map(([name, dir]) => `-ffile-prefix-map=${dir}=/kbuild/${name}`);
}

/** Calls to undeclared helpers (a libbpf too old for the program) become errors, not a broken object. */
const STRICT_WARNINGS = ['-Werror=implicit-function-declaration'];

function sourcesOf(input: CompileInputBase): readonly string[] {
  const list = input.sources ?? (input.entry === undefined ? [] : [input.entry]);
  if (list.length === 0) throw new KbuildError('E_CONFIG', 'nothing to compile: no source given');
  return list;
}

/**
 * The probe's include folders (both "..." and <...>), defines and flags, in
 * that order. libbpf headers the probe chose (a version, a vendored copy) come
 * first, ahead of any bpf/ folder of its own; the build machine's come last.
 */
function probeArgs(input: CompileInputBase): string[] {
  const o = input.options ?? {};
  const chosenLibbpf = input.libbpfIncludeDir === undefined ? [] : [`-I${join(input.workDir, LIBBPF_DIR)}`];
  return [...chosenLibbpf, ...(o.includes ?? []).map((dir) => `-I${dir}`), ...(o.defines ?? []), ...STRICT_WARNINGS, ...(o.cflags ?? [])];
}

function hostLibbpf(input: CompileInputBase): string[] {
  return input.libbpfIncludeDir === undefined ? ['-idirafter', join(input.workDir, LIBBPF_DIR)] : [];
}

function mcpu(input: CompileInputBase): string {
  return `-mcpu=${input.options?.mcpu ?? 'v1'}`;
}

/** One object per source, named by position; linked into OBJECT when there are several, else it is OBJECT. */
function objectName(i: number, count: number): string {
  return count === 1 ? OBJECT : `part-${i}.o`;
}

/** `bpftool gen object` links BPF objects (maps, programs, BTF) as libbpf's linker does; one source needs no link. */
function linkSteps(input: CompileInputBase, count: number): BuildStep[] {
  if (count === 1) return [];
  const parts = Array.from({ length: count }, (_, i) => objectName(i, count));
  return [step(['bpftool', 'gen', 'object', OBJECT, ...parts], input.workDir, input, [])];
}

/**
 * DWARF is three quarters of an object built against vmlinux.h and no loader
 * reads it; .BTF and .BTF.ext (what libbpf needs) are not debug sections and stay.
 */
function stripStep(input: CompileInputBase): BuildStep {
  return step(['llvm-strip', '-g', OBJECT], input.workDir, input, []);
}

function step(argv: string[], cwd: string, input: CompileInputBase, readOnly: string[]): BuildStep {
  return { argv, cwd, readOnly, writable: input.workDir, timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS };
}

/**
 * clang emits IR for the kernel's own arch (kernel headers carry arch inline
 * asm that `-target bpf` rejects) without optimising it; opt then optimises
 * for bpf, which runs LLVM's BPF-specific IR passes — optimising for x86
 * instead folds away bounds masks the verifier needs; llc emits the object
 * with BTF. `clangInclude` is `clang -print-file-name=include`.
 *
 * The IR goes from step to step as bitcode, as a project's own `clang
 * -emit-llvm -c | llc` does: textual IR drops the use-list order, and LLVM
 * 14's BPF code generation follows it. With text, opensnitch 1.6.9's execve
 * tracepoint came out reading a ctx field through a moved pointer, which the
 * verifier refuses ("dereference of modified ctx ptr"); with bitcode it loads.
 */
export function nonCoreSteps(input: NonCoreCompileInput, clangInclude: string): BuildStep[] {
  return flatten(nonCorePlan(input, clangInclude));
}

/** What a compile runs: one chain of steps per source (independent of each other), then the link and strip. */
interface StepPlan {
  readonly perSource: readonly (readonly BuildStep[])[];
  readonly tail: readonly BuildStep[];
}

function flatten(plan: StepPlan): BuildStep[] {
  return [...plan.perSource.flat(), ...plan.tail];
}

function nonCorePlan(input: NonCoreCompileInput, clangInclude: string): StepPlan {
  const { flavour, common } = input.headers;
  const work = input.workDir;
  const readOnly = [input.probeDir, flavour, common, input.libbpfIncludeDir ?? DEFAULT_LIBBPF];
  const sources = sourcesOf(input);
  const perSource = sources.map((source, i) => {
    const stage1 = join(work, `stage1-${i}.bc`);
    const stage2 = `stage2-${i}.bc`;
    const clang = [
      'clang', '-c', '-emit-llvm', '-O2', '-Xclang', '-disable-llvm-passes', '-g',
      '-target', clangHostTriple(input.arch),
      '-D__KERNEL__', '-D__BPF_TRACING__', `-D__TARGET_ARCH_${targetArchMacro(input.arch)}`,
      '-nostdinc', '-isystem', clangInclude,
      ...probeArgs(input),
      ...treeIncludes(flavour, input.arch), ...treeIncludes(common, input.arch),
      '-include', 'linux/kconfig.h', '-include', 'linux/compiler_types.h',
      `-I${join(work, CONFIG_DIR)}`, ...hostLibbpf(input),
      '-fno-asynchronous-unwind-tables', ...KERNEL_HEADER_WARNINGS,
      ...prefixMaps(input, { flavour, common }),
      source, '-o', stage1,
    ];
    const opt = ['opt', '-O2', '-mtriple=bpf-pc-linux', stage1, '-o', stage2];
    const llc = ['llc', '-march=bpf', mcpu(input), '-filetype=obj', stage2, '-o', objectName(i, sources.length)];
    return [step(clang, input.probeDir, input, readOnly), step(opt, work, input, []), step(llc, work, input, [])];
  });
  return { perSource, tail: [...linkSteps(input, sources.length), stripStep(input)] };
}

/** One clang call per source: vmlinux.h is arch-specific but has no arch inline asm. */
export function coreSteps(input: CoreCompileInput, clangInclude: string): BuildStep[] {
  return flatten(corePlan(input, clangInclude));
}

function corePlan(input: CoreCompileInput, clangInclude: string): StepPlan {
  const sources = sourcesOf(input);
  const uapi = input.uapiDirs ?? [];
  const vmlinux = input.vmlinuxDir === undefined ? [] : [input.vmlinuxDir];
  const readOnly = [input.probeDir, ...vmlinux, input.libbpfIncludeDir ?? DEFAULT_LIBBPF, ...uapi];
  const perSource = sources.map((source, i) => {
    const clang = [
      'clang', '-target', 'bpf', mcpu(input), '-O2', '-g',
      `-D__TARGET_ARCH_${targetArchMacro(input.arch)}`, '-DCORE', ...(input.uapiDefines ?? []),
      '-nostdinc', '-isystem', clangInclude,
      ...probeArgs(input),
      ...vmlinux.map((dir) => `-I${dir}`), ...hostLibbpf(input),
      ...uapi.flatMap((dir) => ['-idirafter', dir]),
      ...prefixMaps(input, { ...Object.fromEntries(vmlinux.map((dir) => ['vmlinux', dir])), ...Object.fromEntries(uapi.map((dir, i) => [`uapi${i}`, dir])) }),
      '-c', source, '-o', join(input.workDir, objectName(i, sources.length)),
    ];
    return [step(clang, input.probeDir, input, readOnly)];
  });
  return { perSource, tail: [...linkSteps(input, sources.length), stripStep(input)] };
}

export async function compileNonCore(executor: Executor, input: NonCoreCompileInput, signal?: AbortSignal): Promise<CompileResult> {
  await prepareWorkDir(input);
  await mkdir(join(input.workDir, CONFIG_DIR), { recursive: true });
  await writeFile(join(input.workDir, CONFIG_DIR, CONFIG_HEADER_NAME), input.configHeader);
  return runPlan(executor, input, nonCorePlan(input, await clangIncludeDir(executor, input.workDir)), signal);
}

export async function compileCore(executor: Executor, input: CoreCompileInput, signal?: AbortSignal): Promise<CompileResult> {
  await prepareWorkDir(input);
  return runPlan(executor, input, corePlan(input, await clangIncludeDir(executor, input.workDir)), signal);
}

/** A fresh work folder inside `parent`, for callers that do not want to manage one. */
export function makeWorkDir(parent: string): Promise<string> {
  return mkdtemp(join(parent, 'compile-'));
}

/**
 * work/libbpf/bpf: the build machine's headers through a link (a toolchain path,
 * the same inside a builder image); headers the probe chose are copied in, since
 * an executor that mounts folders elsewhere (Docker) could not follow a link to them.
 */
async function prepareWorkDir(input: CompileInputBase): Promise<void> {
  await mkdir(join(input.workDir, LIBBPF_DIR), { recursive: true });
  const dest = join(input.workDir, LIBBPF_DIR, 'bpf');
  await rm(dest, { force: true, recursive: true });
  if (input.libbpfIncludeDir === undefined) {
    await symlink(DEFAULT_LIBBPF, dest);
    return;
  }
  await mkdir(dest);
  const headers = (await readdir(input.libbpfIncludeDir, { withFileTypes: true })).filter((d) => d.isFile() && d.name.endsWith('.h'));
  for (const h of headers) await copyFile(join(input.libbpfIncludeDir, h.name), join(dest, h.name));
}

/**
 * A project of many sources (Falco's modern probe has 168) compiles them a few
 * at a time, one per core; the first failure stops the others. Warnings keep
 * the sources' order whatever order they finished in.
 */
async function runPlan(executor: Executor, input: CompileInputBase, plan: StepPlan, signal?: AbortSignal): Promise<CompileResult> {
  const started = performance.now();
  const warnings: string[][] = plan.perSource.map(() => []);
  const stop = new AbortController();
  // Disposed once the sources are compiled: the job's signal outlives this compile.
  const linked = signal === undefined ? undefined : anySignal([signal, stop.signal]);
  const chainSignal = linked?.signal ?? stop.signal;
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < plan.perSource.length && failure === undefined; i = next++) {
      try {
        await runChain(executor, input, plan.perSource[i] ?? [], warnings[i]!, chainSignal);
      } catch (err) {
        failure ??= err;
        stop.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(SOURCE_PARALLELISM, plan.perSource.length) }, worker));
  } finally {
    linked?.dispose();
  }
  if (failure !== undefined) throw failure;
  const tailWarnings: string[] = [];
  await runChain(executor, input, plan.tail, tailWarnings, signal);
  await publish(join(input.workDir, OBJECT), input.output);
  return { output: input.output, warnings: [...warnings.flat(), ...tailWarnings].join(''), durationMs: performance.now() - started };
}

const SOURCE_PARALLELISM = Math.max(1, Math.min(4, availableParallelism()));

/** A chain of steps keeps one core busy: it runs holding one of the process's CPU slots (see cpu-slots.ts). */
async function runChain(executor: Executor, input: CompileInputBase, steps: readonly BuildStep[], warnings: string[], signal: AbortSignal | undefined): Promise<void> {
  await cpuSlots().run(() => runSteps(executor, input, steps, warnings, signal), signal);
}

async function runSteps(executor: Executor, input: CompileInputBase, steps: readonly BuildStep[], warnings: string[], signal: AbortSignal | undefined): Promise<void> {
  for (const s of steps) {
    try {
      const result = await executor.run(s, signal);
      if (result.stderr.trim() !== '') warnings.push(result.stderr);
    } catch (err) {
      throw toCompileError(err, s, input);
    }
  }
}

function toCompileError(err: unknown, s: BuildStep, input: CompileInputBase): unknown {
  if (!(err instanceof ExecError)) return err;
  const tool = s.argv[0] ?? 'compiler';
  const why = err.timedOut ? 'timed out' : 'failed';
  const output = err.stderr.trim() === '' ? err.stdout : err.stderr;
  const what = s.argv.find((a) => /\.c$/.test(a)) ?? sourcesOf(input).join(', ');
  const doing = tool === 'bpftool' ? 'linking' : 'compiling';
  return new CompileError(`${tool} ${why} ${doing} ${doing === 'linking' ? `${sourcesOf(input).length} objects` : what} for ${input.arch}`, output, {
    cause: err,
    retryable: err.timedOut,
  });
}

/** Rename into place so a reader never sees half an object; copy first across filesystems. */
async function publish(from: string, to: string): Promise<void> {
  await writeAtomically(to, (temp) =>
    rename(from, temp).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EXDEV') throw err;
      await copyFile(from, temp);
    }),
  );
}

const includeDirs = new Map<string, Promise<string>>();

/**
 * clang's own headers (stddef.h, ...), asked of the executor's clang since a
 * container's may differ; cached per toolchain, so per-job views of one
 * executor (a Docker executor bound to a job's log) ask once.
 */
export async function clangIncludeDir(executor: Executor, workDir: string): Promise<string> {
  const toolchain = await executor.toolchainId();
  let dir = includeDirs.get(toolchain);
  if (dir === undefined) {
    const query: BuildStep = { argv: ['clang', '-print-file-name=include'], cwd: workDir, readOnly: [], writable: workDir };
    dir = executor.run(query).then((r) => {
      const path = r.stdout.trim();
      if (!path.startsWith('/')) throw new KbuildError('E_TOOLCHAIN', `clang did not report its include folder (got "${path}")`);
      return path;
    });
    includeDirs.set(toolchain, dir);
    dir.catch(() => includeDirs.delete(toolchain));
  }
  return dir;
}
