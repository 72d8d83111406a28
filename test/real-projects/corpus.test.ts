/**
 * Slow: real projects from Debian's source archive, unmodified, built by
 * `kbuild build` with only a kernels.yaml beside them, for four real Debian
 * kernels (x86_64 6.1 and 6.12, arm64 6.1, and x86_64 5.10 without BTF);
 * the CO-RE objects that a plain `bpftool prog loadall` can load are loaded
 * into this machine's kernel. One `it` per project so failures stay apart.
 * The probe entries are in corpus-probes.ts (and docs/real-projects.md),
 * with why each program left out is left out.
 */
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex } from '@kbuild/loader';
import { loadIntoHostKernel } from '../helpers/bpffs.js';
import { kbuild } from '../helpers/cli.js';
import { BPFTUNE, CORPUS_RELEASES, layOut, libbpfProject, OPENSNITCH, PWRU, SURICATA, SYSTEMD, XDP_TOOLS, type CorpusProject } from './corpus-probes.js';

interface Summary {
  readonly exitCode: number;
  readonly stdout: string;
  readonly index: ArtifactIndex;
  readonly out: string;
}

const EM_BPF = 247;

/** The ELF header says 64-bit, little-endian, machine BPF. */
async function assertBpfElf(path: string): Promise<void> {
  const file = await open(path, 'r');
  try {
    const { buffer } = await file.read(Buffer.alloc(20), 0, 20, 0);
    assert.equal(buffer.subarray(0, 4).toString('latin1'), '\x7fELF', `${path} is an ELF file`);
    assert.equal(buffer.readUInt16LE(18), EM_BPF, `${path} is a BPF object`);
  } finally {
    await file.close();
  }
}

async function build(dir: string, project: CorpusProject): Promise<Summary> {
  const kernels = await layOut(dir, project);
  const out = join(dir, 'out');
  const result = await kbuild(['build', '--kernels', kernels, '--out', out, '--json']);
  const index = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
  return { exitCode: result.exitCode, stdout: `${result.stdout}\n${result.stderr}`, index, out };
}

function failuresOf(summary: Summary): string {
  return summary.index.failures.map((f) => `${f.probe} ${f.kind} ${f.arch}: ${f.code}`).join('\n') || summary.stdout.slice(-4000);
}

/** Every probe has its CO-RE object for both arches, each an ELF BPF object. */
async function assertCoreObjects(summary: Summary, probes: readonly string[]): Promise<void> {
  for (const probe of probes) {
    for (const arch of ['x86_64', 'arm64']) {
      const artifact = summary.index.artifacts.find((a) => a.probe === probe && a.kind === 'core' && a.arch === arch);
      assert.ok(artifact, `${probe}: a CO-RE object for ${arch}`);
      await assertBpfElf(join(summary.out, artifact.path));
    }
  }
}

function corePath(summary: Summary, probe: string): string {
  const artifact = summary.index.artifacts.find((a) => a.probe === probe && a.kind === 'core' && a.arch === 'x86_64');
  assert.ok(artifact, `${probe}: x86_64 CO-RE object`);
  return join(summary.out, artifact.path);
}

describe('real projects from Debian\'s source archive build unmodified with only a kernels.yaml (real Debian kernels, slow)', { timeout: 60 * 60 * 1000 }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-corpus-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('suricata 7.0.10 ebpf/: vlan_filter per kernel against each kernel\'s headers, the other five filters as its Makefile builds them', async () => {
    const summary = await build(await mkdtemp(join(work, 'suricata-')), SURICATA);
    assert.equal(summary.exitCode, 0, failuresOf(summary));
    assert.deepEqual(summary.index.failures, []);
    for (const release of CORPUS_RELEASES) {
      const artifact = summary.index.artifacts.find((a) => a.probe === 'suricata-vlan-filter' && a.kind === 'non-core' && a.kernel.release === release);
      assert.ok(artifact, `suricata-vlan-filter has its object for ${release}`);
      await assertBpfElf(join(summary.out, artifact.path));
    }
    await assertCoreObjects(summary, SURICATA.probes.filter((p) => p.name !== 'suricata-vlan-filter').map((p) => p.name));
    // No host load: filter, bypass_filter, xdp_filter and xdp_lb declare their
    // maps the legacy way (struct bpf_map_def SEC("maps")), which libbpf 1.x
    // (bpftool here) refuses; Suricata loads them with its own code path.
  });

  it('xdp-tools 1.6.3: 31 XDP and tracing programs as CO-RE objects; those bpftool can load alone load here', async () => {
    const summary = await build(await mkdtemp(join(work, 'xdp-tools-')), XDP_TOOLS);
    assert.equal(summary.exitCode, 0, failuresOf(summary));
    assert.deepEqual(summary.index.failures, []);
    await assertCoreObjects(summary, XDP_TOOLS.probes.map((p) => p.name));
    // Loaded: every object whose maps are complete in the ELF. Not loaded:
    // xdp-bench, xdp-monitor, xdp-trafficgen, xdp-redirect-* and xdp-sample's
    // users leave max_entries 0 for the tool to set before load; xdp-filter
    // pins xdp_stats_map by name under /sys/fs/bpf, which is not a bpffs on
    // every host; xdp_flowtable* call the bpf_xdp_flow_lookup kfunc (needs
    // nf_flow_table); xdpdump_bpf's fentry target is set at run time.
    const loadable: Record<string, string[]> = {
      'xdp-adjust-tail': ['xdp_adjust_tail'],
      'xdp-drop': ['xdp_drop'],
      'xdp-pass': ['xdp_pass'],
      'xdp-forward': ['xdp_fwd_fib_direct', 'xdp_fwd_fib_full'],
      'xdp-load-bytes': ['xdp_probe_prog'],
      'xdp-sample': ['tp_xdp_cpumap_kthread'],
      'xdp-test-long-func-name': ['xdp_test_prog_with_a_long_name', 'xdp_test_prog_with_a_long_name_too'],
      'xdp-xsk-def-xdp-prog': ['xsk_def_prog'],
      'xdp-xsk-def-xdp-prog-5-3': ['xsk_def_prog'],
      xdpdump: ['xdpdump'],
      xdpsock: ['xdp_sock_prog'],
    };
    for (const [probe, programs] of Object.entries(loadable)) {
      const name = probe === 'xdpdump' ? 'xdpdump-xdp' : probe;
      const loaded = await loadIntoHostKernel(corePath(summary, name));
      assert.ok(loaded.ok, `${name}: ${loaded.output}`);
      assert.deepEqual(loaded.programs.sort(), programs, name);
    }
  });

  it('systemd 257: its five BPF programs as CO-RE objects (glibc headers with uapi: libc); sysctl-monitor loads here', async () => {
    const summary = await build(await mkdtemp(join(work, 'systemd-')), SYSTEMD);
    assert.equal(summary.exitCode, 0, failuresOf(summary));
    assert.deepEqual(summary.index.failures, []);
    await assertCoreObjects(summary, SYSTEMD.probes.map((p) => p.name));
    const restrictFs = summary.index.artifacts.find((a) => a.probe === 'systemd-restrict-fs' && a.arch === 'x86_64');
    assert.deepEqual(restrictFs?.sources?.map((s) => s.name).slice(-2), ['linux-libc-dev', 'libc6-dev'], 'glibc headers are listed as a source');
    const loaded = await loadIntoHostKernel(corePath(summary, 'systemd-sysctl-monitor'));
    assert.ok(loaded.ok, loaded.output);
    assert.deepEqual(loaded.programs, ['sysctl_monitor']);
    // Not loaded with a generic loader: restrict-ifaces (sd_restrictif),
    // socket-bind (sd_bind_allow) and restrict-fs (cgroup_hash) have maps
    // that systemd completes (max_entries, inner map) before loading;
    // userns-restrict is BPF LSM, which the kernel refuses (EPERM) unless
    // "bpf" is among its active LSMs.
  });

  it('opensnitch 1.6.9 ebpf_prog/: its three objects per kernel against each kernel\'s headers, as its Makefile builds them', async () => {
    const summary = await build(await mkdtemp(join(work, 'opensnitch-')), OPENSNITCH);
    assert.equal(summary.exitCode, 0, failuresOf(summary));
    assert.deepEqual(summary.index.failures, []);
    for (const probe of OPENSNITCH.probes) {
      for (const release of CORPUS_RELEASES) {
        const artifact = summary.index.artifacts.find((a) => a.probe === probe.name && a.kind === 'non-core' && a.kernel.release === release);
        assert.ok(artifact, `${probe.name} has its object for ${release}`);
        await assertBpfElf(join(summary.out, artifact.path));
      }
    }
    // No host load: the maps are gobpf's, one "maps/<name>" section each, which
    // no libbpf opens; opensnitchd loads them with gobpf's ELF loader.
  });

  it('bpftune (git 8fd59cc): each tuner as its Makefile builds it, plain, legacy and no-BTF, against its own vmlinux headers', async () => {
    const summary = await build(await mkdtemp(join(work, 'bpftune-')), BPFTUNE);
    assert.equal(summary.exitCode, 0, failuresOf(summary));
    assert.deepEqual(summary.index.failures, []);
    await assertCoreObjects(summary, BPFTUNE.probes.map((p) => p.name));
  });

  it('pwru 1.0.5: kprobe_pwru.c four ways, as its go:generate lines build it, with its own headers', async () => {
    const summary = await build(await mkdtemp(join(work, 'pwru-')), PWRU);
    assert.equal(summary.exitCode, 0, failuresOf(summary));
    assert.deepEqual(summary.index.failures, []);
    await assertCoreObjects(summary, PWRU.probes.map((p) => p.name));
    // No host load with a generic loader: fentry_tc's target is the tc program pwru traces, set at run time.
  });

  it('libbpf 1.5.0: a probe needing newer libbpf builds and loads with libbpf-dev 1.5.0 or the 1.5.0 source tree; with host libbpf it fails with exit 1', async () => {
    for (const choice of ['{ debian: "1.5.0" }', '{ dir: src }']) {
      const summary = await build(await mkdtemp(join(work, 'libbpf-')), libbpfProject(choice));
      assert.equal(summary.exitCode, 0, `libbpf: ${choice}\n${failuresOf(summary)}`);
      await assertCoreObjects(summary, ['newer-libbpf']);
      const loaded = await loadIntoHostKernel(corePath(summary, 'newer-libbpf'));
      assert.ok(loaded.ok, `libbpf: ${choice}: ${loaded.output}`);
      assert.deepEqual(loaded.programs, ['sixth_arg']);
    }
    const host = await build(await mkdtemp(join(work, 'libbpf-host-')), libbpfProject('host'));
    assert.equal(host.exitCode, 1, host.stdout);
    assert.match(host.stdout, /implicit declaration of function 'PT_REGS_PARM6_CORE_SYSCALL'|implicit-function-declaration/);
    assert.equal(host.index.failures.find((f) => f.kind === 'core')?.code, 'E_COMPILE');
  });
});
