/**
 * Slow (one QEMU boot per project, x86_64 with KVM when the host has it):
 * opensnitch, pwru and bpftune from Debian's source archive, unmodified,
 * built by `kbuild build` and verified in one Debian kernel each, with the
 * policies of verify-policies.ts. What each needed from kbuild:
 * - opensnitch 1.6.9 (6.1): the non-CO-RE IR between clang, opt and llc as
 *   bitcode (as text, LLVM 14 read a ctx field of opensnitch-procs' execve
 *   tracepoint through a moved pointer, which the verifier refuses), and a
 *   guest that loads gobpf's per-map "maps/<name>" sections as gobpf does;
 * - pwru 1.0.5 (6.12): kprobe.multi programs attached as multi-kprobes;
 * - bpftune (6.12): autoload.optional, its loader's second load without
 *   entry__fib6_age, which Debian's 6.12 inlines.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex } from '@kbuild/loader';
import { kbuild } from '../helpers/cli.js';
import { BPFTUNE, layOut, OPENSNITCH, PWRU, type CorpusProject } from './corpus-probes.js';
import { BPFTUNE_VERIFY, PWRU_VERIFY, verifyEntry } from './verify-policies.js';

const kernel = (release: string): string => `kernels:\n  - { distro: debian, release: ${release}, arch: x86_64 }\n`;
type Tally = Record<string, number>;

/** Builds and verifies; per probe and mode, how many programs ended attached, loaded, skipped. */
async function verified(dir: string, project: CorpusProject, release: string, policies: Readonly<Record<string, string>> = {}): Promise<Map<string, Tally>> {
  const kernels = await layOut(dir, project, { verify: verifyEntry(policies), kernels: kernel(release) });
  const out = join(dir, 'out');
  const result = await kbuild(['build', '--kernels', kernels, '--out', out, '--verify-concurrency', '1'], { verify: true });
  assert.equal(result.exitCode, 0, `${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
  const index = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
  const tallies = new Map<string, Tally>();
  for (const artifact of index.artifacts) {
    for (const entry of (artifact.verification ?? []).filter((v) => v.method === 'qemu')) {
      const where = `${artifact.probe} ${entry.mode}`;
      assert.ok(entry.result === 'ok' || entry.result === 'not-verifiable', `${where}: ${entry.result} ${entry.firstError ?? entry.detail ?? ''}`);
      const tally: Tally = { [entry.result]: 1 };
      for (const p of entry.programs ?? []) tally[p.result] = (tally[p.result] ?? 0) + 1;
      tallies.set(where, tally);
    }
  }
  return tallies;
}

describe('opensnitch, pwru and bpftune built and verified in one Debian kernel each (real QEMU boots, slow)', { timeout: 20 * 60 * 1000 }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-verify-one-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('opensnitch 1.6.9 on 6.1: kprobes and tracepoints attached the way gobpf does; the DNS uprobes loaded', async () => {
    const got = await verified(await mkdtemp(join(work, 'opensnitch-')), OPENSNITCH, '6.1.0-50-cloud-amd64');
    assert.deepEqual(got.get('opensnitch non-core'), { ok: 1, attached: 9 });
    assert.deepEqual(got.get('opensnitch-procs non-core'), { ok: 1, attached: 5 });
    assert.deepEqual(got.get('opensnitch-dns non-core'), { ok: 1, loaded: 3 });
  });

  it('pwru 1.0.5 on 6.12: all four objects, both BTF modes, kprobe.multi ones as multi-kprobes', async () => {
    const got = await verified(await mkdtemp(join(work, 'pwru-')), PWRU, '6.12.117+deb13-cloud-amd64', PWRU_VERIFY);
    for (const probe of PWRU.probes) {
      for (const mode of ['core-kernel-btf', 'core-external-btf']) assert.deepEqual(got.get(`${probe.name} ${mode}`), { ok: 1, attached: 5, skipped: 4 }, `${probe.name} ${mode}`);
    }
  });

  it('bpftune on 6.12: route_table_tuner loaded again without entry__fib6_age, as bpftune does', async () => {
    const tuner = { ...BPFTUNE, probes: BPFTUNE.probes.filter((p) => p.name === 'bpftune-route-table-tuner') };
    const got = await verified(await mkdtemp(join(work, 'bpftune-')), tuner, '6.12.117+deb13-cloud-amd64', BPFTUNE_VERIFY);
    assert.deepEqual(got.get('bpftune-route-table-tuner core-kernel-btf'), { ok: 1, attached: 2, skipped: 1 });
  });
});
