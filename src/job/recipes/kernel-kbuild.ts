import { chmod, copyFile, open, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative } from 'node:path';
import { CompileError, ConfigError } from '../../errors.js';
import { ExecError, type ExecResult } from '../../exec/exec.js';
import type { BuildStep, Executor } from '../../executor/types.js';
import { clangHostTriple, kernelSourceArch, type Arch } from '../../kernel/identity.js';
import { renderTemplate } from '../../template/render.js';
import { writeAtomically } from '@kbuild/loader/internal';
import { checkMakeArgs } from './make-args.js';

/**
 * The kernel's own Kbuild as a recipe (driverkit's way): `make -C <kernel
 * build dir> M=<probe dir>` runs the probe's own Makefile, feature probes
 * (try-compiles at make time) included, as one build step. The shell comes
 * from a per-distro template under templates/, like driverkit's builders.
 */

export interface KbuildCompileInput {
  /** A writable copy of the probe's files, inside workDir (make writes beside the sources). */
  readonly projectDir: string;
  /** Folder under projectDir holding the Makefile, relative ("driver/bpf", or "." for the root). */
  readonly dir: string;
  readonly arch: Arch;
  /** The kernel build folder (FetchedBuildTree.buildDir). */
  readonly buildDir: string;
  /** The folder everything buildDir links to lives in (FetchedBuildTree.root); mounted read-only. Default: buildDir. */
  readonly buildRoot?: string;
  /** Extra NAME=value arguments for make (see make-args.ts). */
  readonly makeArgs: readonly string[];
  /** The object the Makefile produces in dir, e.g. "probe.o". */
  readonly objectName: string;
  /** The step's one writable folder: holds the rendered script and projectDir. */
  readonly workDir: string;
  /** Where the object ends up; written under a temporary name and renamed. */
  readonly output: string;
  readonly timeoutMs?: number;
  /** The build machine's arch (default: this process's); a different target arch means a cross build. */
  readonly hostArch?: Arch;
}

export interface KbuildCompileResult {
  readonly output: string;
  /** What make and the compilers wrote on stderr (warnings, failed feature probes' noise), kept for the build record. */
  readonly warnings: string;
  readonly durationMs: number;
}

export const KBUILD_TEMPLATE = 'kbuild-debian.sh';
const SCRIPT = 'kbuild-make.sh';
const DEFAULT_TIMEOUT_MS = 600_000;
const EM_BPF = 247;
/** Kbuild cannot handle spaces, colons or '=' in M= or -C paths; the docker executor refuses ',' and ':'. */
const SAFE_PATH = /^\/[A-Za-z0-9_.+@%/-]*$/;
const OBJECT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\.o$/;

function inside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function checkPath(label: string, path: string): string {
  if (!SAFE_PATH.test(path)) throw new ConfigError(`kbuild recipe: ${label} ${JSON.stringify(path)} must be an absolute path of letters, digits and _ . + @ % / -`);
  return normalize(path);
}

function probeFolder(input: KbuildCompileInput): string {
  const projectDir = checkPath('projectDir', input.projectDir);
  const workDir = checkPath('workDir', input.workDir);
  if (!inside(workDir, projectDir)) throw new ConfigError(`kbuild recipe: projectDir ${projectDir} must be inside workDir ${workDir}`);
  if (isAbsolute(input.dir) || normalize(input.dir).split('/').includes('..')) {
    throw new ConfigError(`kbuild recipe: dir ${JSON.stringify(input.dir)} must be a folder under the project`);
  }
  if (!OBJECT_NAME.test(input.objectName)) throw new ConfigError(`kbuild recipe: objectName ${JSON.stringify(input.objectName)} must be a plain *.o file name`);
  return checkPath('probe folder', join(projectDir, input.dir).replace(/\/$/, ''));
}

function hostArchOfProcess(): Arch {
  return process.arch === 'arm64' ? 'arm64' : 'x86_64';
}

/** The script for one arch; its text depends on nothing but the arch and the validated make arguments. */
export async function renderKbuildScript(arch: Arch, makeArgs: readonly string[], hostArch: Arch = hostArchOfProcess()): Promise<string> {
  return renderTemplate(KBUILD_TEMPLATE, {
    arch,
    karch: kernelSourceArch(arch),
    triple: clangHostTriple(arch),
    crossCompile: arch === hostArch ? '' : `${clangHostTriple(arch)}-`,
    clang: 'clang',
    llc: 'llc',
    makeArgs: [...checkMakeArgs(makeArgs)],
  });
}

async function elfMachine(path: string): Promise<number | undefined> {
  const file = await open(path, 'r').catch(() => undefined);
  if (file === undefined) return undefined;
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(20), 0, 20, 0);
    if (bytesRead < 20 || buffer.readUInt32BE(0) !== 0x7f454c46) return -1;
    return buffer[5] === 2 ? buffer.readUInt16BE(18) : buffer.readUInt16LE(18);
  } finally {
    await file.close();
  }
}

function makeFailure(err: unknown, input: KbuildCompileInput): unknown {
  if (!(err instanceof ExecError)) return err;
  const why = err.timedOut ? 'timed out' : err.signal !== undefined ? `was killed by ${err.signal}` : `exited with ${err.exitCode_ ?? '?'}`;
  return new CompileError(`make (kernel Kbuild) ${why} building ${input.dir}/${input.objectName} for ${input.arch}`, `${err.stdout}${err.stderr}`, {
    cause: err,
  });
}

export async function compileWithKbuild(executor: Executor, input: KbuildCompileInput, signal?: AbortSignal): Promise<KbuildCompileResult> {
  const started = Date.now();
  const probeDir = probeFolder(input);
  const buildDir = checkPath('buildDir', input.buildDir);
  const buildRoot = checkPath('buildRoot', input.buildRoot ?? input.buildDir);
  if (!inside(buildRoot, buildDir)) throw new ConfigError(`kbuild recipe: buildDir ${buildDir} must be inside buildRoot ${buildRoot}`);
  const script = join(input.workDir, SCRIPT);
  await writeFile(script, await renderKbuildScript(input.arch, input.makeArgs, input.hostArch));
  await chmod(script, 0o755);
  const object = join(probeDir, input.objectName);
  // A stale object from an earlier run must not pass for this one's.
  await rm(object, { force: true });
  const step: BuildStep = {
    argv: ['sh', script, buildDir, probeDir],
    cwd: probeDir,
    readOnly: [buildRoot],
    writable: input.workDir,
    timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  let result: ExecResult;
  try {
    result = await executor.run(step, signal);
  } catch (err) {
    throw makeFailure(err, input);
  }
  const output = `${result.stdout}${result.stderr}`;
  const machine = await elfMachine(object);
  if (machine === undefined) throw new CompileError(`make (kernel Kbuild) succeeded but left no ${input.dir}/${input.objectName}`, output);
  if (machine !== EM_BPF) {
    throw new CompileError(`${input.dir}/${input.objectName} is not a BPF object (ELF machine ${machine}, want ${EM_BPF})`, output);
  }
  await writeAtomically(input.output, (tmp) => copyFile(object, tmp));
  return { output: input.output, warnings: result.stderr.trim(), durationMs: Date.now() - started };
}
