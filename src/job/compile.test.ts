/**
 * Slow: real compiles of probes/execve against real Debian header packages
 * (fetched and cached by the Debian builder) and this machine's BTF.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { debianBuilder } from '../../builders/debian/index.js';
import type { HeaderTrees } from '../../builders/types.js';
import { parseElf64 } from '../btf/elf-section.js';
import { generateVmlinuxHeader } from '../btf/vmlinux-header.js';
import { cacheRoot } from '../cache/cache-dir.js';
import { CompileError } from '../errors.js';
import { run } from '../exec/exec.js';
import { LocalExecutor } from '../executor/local.js';
import type { Arch } from '../kernel/identity.js';
import { buildConfig, renderKbuildConfig } from './build-config.js';
import { compileCore, compileNonCore, nonCoreSteps, type NonCoreCompileInput } from './compile.js';

const PROBE_DIR = fileURLToPath(new URL('../../probes/execve', import.meta.url));
const ENTRY = 'execve.bpf.c';
const EM_BPF = 247;
const TIMEOUT = { timeout: 10 * 60 * 1000 };
const executor = new LocalExecutor();
const isRoot = process.getuid?.() === 0;

const KERNELS = [
  { release: '5.10.0-32-cloud-amd64', arch: 'x86_64' },
  { release: '6.1.0-50-cloud-amd64', arch: 'x86_64' },
  { release: '6.1.0-50-arm64', arch: 'arm64' },
  { release: '6.12.117+deb13-cloud-amd64', arch: 'x86_64' },
] as const satisfies readonly { release: string; arch: Arch }[];

let dir: string;
const trees = new Map<string, HeaderTrees>();
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbuild-compile-test-'));
  for (const k of KERNELS) {
    const fetched = await debianBuilder.fetchHeaders({ distro: 'debian', ...k }, { cacheDir: cacheRoot() });
    trees.set(k.release, fetched.trees);
  }
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function headers(release: string): HeaderTrees {
  const found = trees.get(release);
  if (found === undefined) throw new Error(`no headers fetched for ${release}`);
  return found;
}

async function nonCoreInput(release: string, arch: Arch, name: string, versionCode?: number): Promise<NonCoreCompileInput> {
  const h = headers(release);
  const config = buildConfig(release, versionCode ?? h.versionCode, []);
  const workDir = await mkdtemp(join(dir, `${name}-work-`));
  return { probeDir: PROBE_DIR, entry: ENTRY, arch, headers: h, configHeader: await renderKbuildConfig(config), workDir, output: join(dir, 'out', arch, `${name}.o`) };
}

/** The object's .kbuild.info: the walk size and version code the probe was actually compiled with. */
async function probeInfo(object: string): Promise<{ machine: number; maxPathComponents: number; versionCode: number }> {
  const bytes = await readFile(object);
  const elf = parseElf64(bytes, object);
  const info = elf.sections.find((s) => s.name === '.kbuild.info');
  assert.ok(info !== undefined && info.size === 8, '.kbuild.info section present');
  const view = Buffer.from(bytes.subarray(info.offset, info.offset + info.size));
  return { machine: elf.machine, maxPathComponents: view.readUInt32LE(0), versionCode: view.readUInt32LE(4) };
}

/** Helper calls in the program: 4 is bpf_probe_read, 113 bpf_probe_read_kernel. */
async function helperCalls(object: string): Promise<Set<number>> {
  const { stdout } = await run('llvm-objdump', ['-d', object]);
  return new Set([...stdout.matchAll(/\bcall (\d+)$/gm)].map((m) => Number(m[1])));
}

/** Loads every program of `object` into a private bpffs mount, removed afterwards. */
async function loadInThisKernel(object: string): Promise<string> {
  const mountDir = await mkdtemp(join(tmpdir(), 'kbuild-bpffs-'));
  await run('mount', ['-t', 'bpf', 'bpf', mountDir]);
  try {
    await run('bpftool', ['prog', 'loadall', object, join(mountDir, 'x')]);
    return (await run('bpftool', ['prog', 'show', 'pinned', join(mountDir, 'x', 'tracepoint__syscalls__sys_enter_execve')])).stdout;
  } finally {
    await rm(join(mountDir, 'x'), { recursive: true, force: true });
    await run('umount', [mountDir]);
    await rm(mountDir, { recursive: true, force: true });
  }
}

describe('nonCoreSteps', () => {
  it('builds argv arrays with kbuild include order and without /usr/include', async () => {
    const input = await nonCoreInput('6.1.0-50-arm64', 'arm64', 'argv');
    const [clang, opt, llc] = nonCoreSteps(input, '/clang/include');
    assert.ok(clang !== undefined && opt !== undefined && llc !== undefined);
    const argv = clang.argv.join(' ');
    assert.match(argv, /-target aarch64-linux-gnu .*-D__TARGET_ARCH_arm64 .*-nostdinc -isystem \/clang\/include/);
    const includes = clang.argv.filter((a) => a.startsWith('-I') && !a.includes(input.workDir));
    assert.equal(includes.length, 14);
    assert.equal(includes[0], `-I${join(input.headers.flavour, 'arch/arm64/include/generated')}`);
    assert.equal(includes[7], `-I${join(input.headers.common, 'arch/arm64/include/generated')}`);
    assert.ok(!clang.argv.some((a) => a === '-I/usr/include' || a === '/usr/include'));
    assert.deepEqual(opt.argv.slice(0, 3), ['opt', '-O2', '-mtriple=bpf-pc-linux']);
    // Bitcode between the steps: textual IR loses the use-list order LLVM's BPF code generation follows.
    assert.ok(clang.argv.includes('-c') && !clang.argv.includes('-S') && !opt.argv.includes('-S'));
    assert.match(llc.argv.find((a) => a.startsWith('stage2')) ?? '', /\.bc$/);
    assert.equal(llc.argv[0], 'llc');
    assert.ok([clang, opt, llc].every((s) => s.writable === input.workDir));
  });
});

describe('compileNonCore (real Debian headers, slow)', TIMEOUT, () => {
  for (const k of KERNELS) {
    it(`compiles the execve probe for ${k.release} (${k.arch})`, async (t) => {
      const input = await nonCoreInput(k.release, k.arch, k.release);
      const result = await compileNonCore(executor, input);
      t.diagnostic(`${k.release}: ${Math.round(result.durationMs)} ms, ${(await stat(result.output)).size} bytes`);
      assert.deepEqual(await probeInfo(result.output), { machine: EM_BPF, maxPathComponents: 80, versionCode: headers(k.release).versionCode });
      assert.ok((await helperCalls(result.output)).has(113), 'bpf_probe_read_kernel on >= 5.5');
      assert.equal(result.warnings, '', 'kernel headers compile without warnings');
    });
  }

  it('takes the bpf_probe_read path and the 48-component walk below 5.5', async () => {
    const code419 = 4 * 65536 + 19 * 256;
    const input = await nonCoreInput('5.10.0-32-cloud-amd64', 'x86_64', 'as-4.19', code419);
    const result = await compileNonCore(executor, input);
    assert.deepEqual(await probeInfo(result.output), { machine: EM_BPF, maxPathComponents: 48, versionCode: code419 });
    const calls = await helperCalls(result.output);
    assert.ok(calls.has(4) && !calls.has(113), `helpers used: ${[...calls].join(', ')}`);
    // Kernels before 5.2 refuse programs over 4096 instructions; the smaller walk is what keeps it under.
    const { stdout } = await run('llvm-objdump', ['-h', result.output]);
    const size = /tracepoint\/syscalls\/sys_enter_execve\s+([0-9a-f]+)/.exec(stdout)?.[1];
    assert.ok(size !== undefined && parseInt(size, 16) / 8 < 4096, `program of ${size} bytes`);
  });

  it('gives byte-identical objects when built in different folders', async () => {
    const build = async (name: string): Promise<Buffer> => {
      const base = await mkdtemp(join(dir, `${name}-`));
      const probeDir = join(base, 'src', 'probe');
      await cp(PROBE_DIR, probeDir, { recursive: true });
      // Header trees reached through other paths too, as a container mount would.
      const h = headers('6.1.0-50-cloud-amd64');
      await mkdir(join(base, 'h'));
      await symlink(h.flavour, join(base, 'h', 'flavour'));
      await symlink(h.common, join(base, 'h', 'common'));
      const input = await nonCoreInput('6.1.0-50-cloud-amd64', 'x86_64', name);
      const result = await compileNonCore(executor, {
        ...input,
        probeDir,
        headers: { flavour: join(base, 'h', 'flavour'), common: join(base, 'h', 'common') },
        output: join(base, 'out', 'execve.o'),
      });
      const bytes = await readFile(result.output);
      for (const path of [base, input.workDir, h.flavour]) assert.equal(bytes.indexOf(path), -1, `${path} leaked into the object`);
      return bytes;
    };
    const [a, b] = [await build('repro-a'), await build('repro-b')];
    assert.ok(a.equals(b), 'objects differ');
  });

  it('turns a compiler failure into a CompileError carrying clang\'s message', async () => {
    const input = await nonCoreInput('6.1.0-50-cloud-amd64', 'x86_64', 'broken');
    const configHeader = '#define KBUILD_LINUX_VERSION_CODE 393648\n#define MAX_PATH_COMPONENTS kbuild_broken_define\n';
    const err: unknown = await compileNonCore(executor, { ...input, configHeader }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof CompileError, `got ${String(err)}`);
    assert.equal(err.code, 'E_COMPILE');
    assert.match(err.message, /^clang failed compiling execve\.bpf\.c for x86_64$/);
    assert.match(err.output, /error: use of undeclared identifier 'kbuild_broken_define'/);
    assert.equal(existsSync(input.output), false);
  });

  it('produces a sane 6.1 object and reports whether it loads in this kernel', async (t) => {
    const input = await nonCoreInput('6.1.0-50-cloud-amd64', 'x86_64', 'sanity');
    const result = await compileNonCore(executor, input);
    const { stdout } = await run('llvm-objdump', ['-h', result.output]);
    assert.match(stdout, /file format elf64-bpf/);
    for (const section of ['tracepoint/syscalls/sys_enter_execve', '.maps', 'license', '.BTF', '.BTF.ext']) {
      assert.match(stdout, new RegExp(` ${section.replace(/[./]/g, '\\$&')} `), section);
    }
    if (!isRoot) return t.diagnostic('not root: load not attempted');
    // Informational: a per-kernel object for another kernel may or may not pass this kernel's verifier.
    const loaded = await loadInThisKernel(result.output).then(() => 'loads', (e: unknown) => `does not load: ${String(e)}`);
    t.diagnostic(`6.1 non-CO-RE object in this kernel (${(await run('uname', ['-r'])).stdout.trim()}): ${loaded}`);
  });
});

describe('compileCore (slow)', TIMEOUT, () => {
  it('builds against this machine\'s vmlinux.h and loads into this kernel', { skip: !isRoot || !existsSync('/sys/kernel/btf/vmlinux') ? 'needs root and /sys/kernel/btf/vmlinux' : false }, async (t) => {
    const vmlinuxDir = join(dir, 'vmlinux');
    await generateVmlinuxHeader('/sys/kernel/btf/vmlinux', join(vmlinuxDir, 'vmlinux.h'));
    const arch: Arch = process.arch === 'arm64' ? 'arm64' : 'x86_64';
    const workDir = await mkdtemp(join(dir, 'core-work-'));
    const result = await compileCore(executor, { probeDir: PROBE_DIR, entry: ENTRY, arch, vmlinuxDir, workDir, output: join(dir, 'out', 'core', `execve-${arch}.o`) });
    t.diagnostic(`CO-RE ${arch}: ${Math.round(result.durationMs)} ms`);
    assert.deepEqual(await probeInfo(result.output), { machine: EM_BPF, maxPathComponents: 80, versionCode: 0 });
    const shown = await loadInThisKernel(result.output);
    assert.match(shown, /tracepoint\s+name tracepoint__syscalls__sys_enter_execve/);
  });
});
