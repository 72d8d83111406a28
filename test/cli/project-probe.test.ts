/**
 * Slow: a project-shaped, CO-RE-only probe as users bring them — headers in
 * subfolders reached with "..." and <...>, two sources linked into one object,
 * defines and flags for the build, -mcpu=v3, UAPI headers — built for real
 * Debian kernels (one without BTF, which gets its external BTF from its own
 * job), then loaded into this machine's kernel. And the same project with
 * bad settings: exit 2, field named, nothing published.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { ArtifactIndex } from '@kbuild/loader';
import { loadIntoHostKernel } from '../helpers/bpffs.js';
import { kbuild } from '../helpers/cli.js';

const FILES: Record<string, string> = {
  'tracer/include/common/consts.h': '#pragma once\n#include <linux/limits.h>\n#define TRACER_KEY_MAX (TRACER_LIMIT * 2)\n',
  'tracer/include/maps.h': '#pragma once\n#include <common/consts.h>\n',
  'tracer/src/exec.bpf.c': `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "../include/maps.h"
#include <asm-generic/errno.h>
#ifndef FEATURE_X
#error FEATURE_X is not defined
#endif
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, TRACER_KEY_MAX); __type(key, __u32); __type(value, __u64); } exec_seen SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_execve")
int on_exec(void *ctx) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  __u32 key = (__u32)BPF_CORE_READ(task, tgid) % TRACER_KEY_MAX;
  __u64 *v = bpf_map_lookup_elem(&exec_seen, &key);
  if (v) __sync_fetch_and_add(v, PATH_MAX > 0 ? 1 : EINVAL);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`,
  'tracer/src/exit.bpf.c': `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <common/consts.h>
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } exit_seen SEC(".maps");
SEC("tracepoint/sched/sched_process_exit")
int on_exit(void *ctx) {
  __u32 key = 0;
  int unused_but_warned;
  __u64 *v = bpf_map_lookup_elem(&exit_seen, &key);
  if (v) __sync_fetch_and_add(v, 1);
  return 0;
}
`,
  'tracer/README.md': 'not a source, travels anyway\n',
};

const KERNELS = `
core:
  btfFrom:
    x86_64: { distro: debian, release: 6.1.0-50-cloud-amd64 }
kernels:
  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64 }
  - { distro: debian, release: 5.10.0-32-cloud-amd64, arch: x86_64, btf: false }
btf:
  sources: [image]
`;

function probe(extra = ''): string {
  return `probes:
  - name: tracer
    root: tracer
    sources: ["src/*.bpf.c"]
    builds: [core]
    includes: [include]
    defines: { TRACER_LIMIT: 16, FEATURE_X: true }
    cflags: { core: [-Wall, -Wno-unused-function] }
    mcpu: v3
${extra}${KERNELS}`;
}

async function writeProject(dir: string): Promise<void> {
  for (const [path, text] of Object.entries(FILES)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

describe('a project-shaped CO-RE-only probe (real Debian kernels, slow)', { timeout: 20 * 60 * 1000 }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-project-'));
    await writeProject(work);
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('builds one linked CO-RE object, external BTF for the kernel without BTF, no per-kernel jobs; it loads here', async () => {
    await writeFile(join(work, 'kernels.yaml'), probe());
    const out = join(work, 'out');
    const result = await kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--out', out, '--json']);
    assert.equal(result.exitCode, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { jobs: { kind: string; status: string }[] };
    assert.deepEqual(summary.jobs.map((j) => j.kind).sort(), ['btf', 'btf', 'core'], 'a CO-RE-only probe gets no non-CO-RE job');
    const index = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
    assert.deepEqual(index.artifacts.map((a) => a.path), ['core/x86_64/tracer.o']);
    assert.deepEqual(index.failures, []);
    // 6.1 is `btf: auto`: its external-BTF job read CONFIG_DEBUG_INFO_BTF=y from its .config and made nothing.
    assert.deepEqual(index.kernelBtf.map((k) => k.kernel.release), ['5.10.0-32-cloud-amd64']);
    const btf = index.kernelBtf.find((k) => k.kernel.release === '5.10.0-32-cloud-amd64');
    assert.equal(btf?.objects[0]?.probe, 'tracer', 'the btf: false kernel has external BTF for the CO-RE object');
    assert.equal(btf?.objects[0]?.relocationCheck.result, 'ok');
    const core = index.artifacts[0]!;
    assert.match(core.warnings ?? '', /unused_but_warned/, 'the compiler warning is kept in the index');
    assert.ok(core.sources?.some((s) => s.name === 'linux-libc-dev'), 'UAPI headers come from linux-libc-dev and are listed');

    const object = join(out, core.path);
    const { stdout: sections } = await execa('llvm-objdump', ['-h', object]);
    assert.match(sections, /tracepoint\/syscalls\/sys_enter_execve/);
    assert.match(sections, /tracepoint\/sched\/sched_process_exit/, 'both sources are linked into one object');
    const { stdout: disasm } = await execa('llvm-objdump', ['-d', '--mcpu=v3', object]);
    assert.match(disasm, /\bw[0-9]+ [+-]?= /, '-mcpu=v3 emits 32-bit subregister (alu32) instructions');
    const { stdout: maps } = await execa('bpftool', ['btf', 'dump', 'file', object]);
    assert.match(maps, /'exec_seen'/);
    const loaded = await loadIntoHostKernel(object);
    assert.ok(loaded.ok, loaded.output);
    assert.deepEqual(loaded.programs.sort(), ['on_exec', 'on_exit']);
  });

  it('a second run builds nothing: the bundle and every job are content-addressed', async () => {
    const out = join(work, 'out');
    const result = await kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--out', out, '--json']);
    assert.equal(result.exitCode, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { built: number; skipped: number };
    assert.deepEqual([summary.built, summary.skipped], [0, 3]);
  });

  it('a program calling an undeclared function fails to build with clang\'s own message', async () => {
    const bad = join(work, 'bad');
    await writeProject(bad);
    await writeFile(join(bad, 'tracer/src/exit.bpf.c'), `${FILES['tracer/src/exit.bpf.c']!}\nint helper_from_newer_libbpf_user(void) { return bpf_helper_that_does_not_exist(1); }\n`);
    await writeFile(join(bad, 'kernels.yaml'), probe());
    const result = await kbuild(['build', '--kernels', join(bad, 'kernels.yaml'), '--out', join(bad, 'out')]);
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(result.stdout, /implicit-function-declaration|implicit declaration/);
    const index = ArtifactIndex.parse(JSON.parse(await readFile(join(bad, 'out', 'index.json'), 'utf8')));
    assert.equal(index.failures.find((f) => f.kind === 'core')?.code, 'E_COMPILE');
  });
});

describe('bad probe settings are bad input: exit 2, the field named, nothing built', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-project-bad-'));
    await writeProject(work);
  });
  after(() => rm(work, { recursive: true, force: true }));

  const cases: [string, string, RegExp, ((dir: string) => Promise<void>)?][] = [
    ['a refused cflag', probe().replace('-Wall,', '-fplugin=/tmp/evil.so,'), /probes\[0\]\.cflags.*-fplugin.*not allowed/s],
    ['an include that escapes', probe().replace('includes: [include]', 'includes: [../../etc]'), /probes\[0\]\.includes\[0\]/],
    ['an include that is not there', probe().replace('includes: [include]', 'includes: [headers]'), /probes\[0\]\.includes\[0\]: headers is not a folder/],
    ['a glob matching nothing', probe().replace('src/*.bpf.c', 'bpf/*.bpf.c'), /probes\[0\]\.sources: "bpf\/\*\.bpf\.c" matches no file/],
    ['a root outside the kernels file\'s folder', probe().replace('root: tracer', 'root: ../elsewhere'), /probes\[0\]\.root: .*\.\./],
    ['a symlink leaving the root', probe(), /symlink include\/passwd -> \/etc\/passwd leaves the probe root/, (dir) => symlink('/etc/passwd', join(dir, 'tracer/include/passwd'))],
    ['a root that is a link to a folder outside', probe().replace('root: tracer', 'root: linked'), /probes\[0\]\.root.*outside the kernels file's folder/, (dir) => symlink('/usr/include', join(dir, 'linked'))],
  ];
  for (const [name, yaml, expected, prepare] of cases) {
    it(name, async () => {
      const dir = await mkdtemp(join(work, 'case-'));
      await writeProject(dir);
      await prepare?.(dir);
      await writeFile(join(dir, 'kernels.yaml'), yaml);
      const result = await kbuild(['build', '--kernels', join(dir, 'kernels.yaml'), '--out', join(dir, 'out')]);
      assert.equal(result.exitCode, 2, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stderr, expected);
      assert.equal(await stat(join(dir, 'out')).catch(() => undefined), undefined, 'nothing was published');
    });
  }

  it('a tree over the bundle limit is refused before its files are read', async () => {
    const { collectTree } = await import('../../src/job/bundle/collect.js');
    const dir = await mkdtemp(join(work, 'big-'));
    await writeFile(join(dir, 'a.c'), 'int a;\n');
    // A sparse 2 GiB file: its size is known from lstat, reading it would take seconds and 2 GiB.
    await execa('truncate', ['-s', '2G', join(dir, 'huge.bin')]);
    await assert.rejects(collectTree(dir, 'kernels.yaml:3: probes[0].root'), /probes\[0\]\.root: .* holds more than 64 MiB \(reached at huge\.bin\)/);
  });
});
