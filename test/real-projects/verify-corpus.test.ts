/**
 * Slow (a QEMU boot per kernel per project, TCG): real projects from Debian's
 * source archive, unmodified, built AND verified by `kbuild build` with only
 * a kernels.yaml beside them, in five real Debian kernels (x86_64 6.1, 6.12
 * and 5.10 without BTF, arm64 6.1 and 6.12 16K pages). The index must show,
 * for every program of every artifact in every booted kernel, `attached`, or
 * `loaded`/`skipped` because the policy or a prog-array says so; no `failed`.
 * What is not verifiable is exactly what the policy (verify-policies.ts, with
 * the reasons) turns off. One build per project, one boot per kernel.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex } from '@kbuild/loader';
import { kbuild } from '../helpers/cli.js';
import { layOut, SURICATA, SYSTEMD, XDP_TOOLS, type CorpusProject } from './corpus-probes.js';
import { SURICATA_VERIFY, SYSTEMD_VERIFY, VERIFY_KERNELS, VERIFY_RELEASES, XDP_TOOLS_VERIFY, verifyEntry } from './verify-policies.js';

type Mode = 'non-core' | 'core-kernel-btf' | 'core-external-btf';
/** Which cases the policy leaves unverified (probe, booted release, mode). */
type Unverified = (probe: string, release: string, mode: Mode) => boolean;

interface Outcome {
  readonly index: ArtifactIndex;
  readonly output: string;
}

async function buildAndVerify(dir: string, project: CorpusProject, policies: Readonly<Record<string, string>>): Promise<Outcome> {
  const kernels = await layOut(dir, project, { verify: verifyEntry(policies), kernels: VERIFY_KERNELS });
  const out = join(dir, 'out');
  const started = Date.now();
  const result = await kbuild(['build', '--kernels', kernels, '--out', out], { verify: true });
  console.log(`${project.project}: build + verify in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const output = `${result.stdout.slice(-6000)}\n${result.stderr.slice(-6000)}`;
  assert.equal(result.exitCode, 0, output);
  return { index: ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8'))), output };
}

const BY_POLICY = /in the probe's policy|of the probe's policy|allowed by attach\.optional|tail-call target the object places in prog-array/;

/**
 * Every booted kernel has a qemu entry per case; each verified one is ok and
 * each of its programs attached or loaded/skipped by policy or prog-array;
 * the not-verifiable ones are exactly those `unverified` names.
 */
function assertVerified(outcome: Outcome, unverified: Unverified): { verified: number; programs: number } {
  const { index } = outcome;
  assert.deepEqual(index.failures, [], outcome.output);
  let verified = 0;
  let programs = 0;
  for (const artifact of index.artifacts) {
    const entries = (artifact.verification ?? []).filter((v) => v.method === 'qemu');
    const releases = artifact.kind === 'non-core' ? [artifact.kernel.release] : VERIFY_RELEASES.filter((r) => (r.includes('arm64') ? 'arm64' : 'x86_64') === artifact.arch);
    for (const release of releases) {
      const modes: Mode[] = artifact.kind === 'non-core' ? ['non-core'] : ['core-kernel-btf', 'core-external-btf'];
      for (const mode of modes) {
        const where = `${artifact.probe} ${artifact.path} in ${release} (${mode})`;
        const entry = entries.find((v) => v.kernel?.release === release && v.mode === mode);
        assert.ok(entry, `${where}: a qemu entry`);
        if (unverified(artifact.probe, release, mode)) {
          assert.equal(entry.result, 'not-verifiable', `${where}: the policy turns it off`);
          continue;
        }
        assert.equal(entry.result, 'ok', `${where}: ${entry.firstError ?? entry.detail ?? ''}`);
        assert.equal(entry.bootedRelease, release, where);
        assert.ok((entry.programs ?? []).length > 0, `${where}: per-program results`);
        for (const program of entry.programs ?? []) {
          const ok = program.result === 'attached' || ((program.result === 'loaded' || program.result === 'skipped') && BY_POLICY.test(program.detail ?? ''));
          assert.ok(ok, `${where}: ${program.name} ${program.result} ${program.detail ?? ''}`);
          programs++;
        }
        verified++;
      }
    }
  }
  return { verified, programs };
}

describe('real projects built and verified in QEMU from a kernels.yaml alone (five real Debian kernels, slow)', { timeout: 60 * 60 * 1000 }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-verify-corpus-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('systemd 257: restrict-fs, restrict-ifaces and socket-bind with their maps sized as systemd does; sysctl-monitor and userns-restrict on 6.12', async () => {
    const outcome = await buildAndVerify(await mkdtemp(join(work, 'systemd-')), SYSTEMD, SYSTEMD_VERIFY);
    const onlyOn612 = (release: string): boolean => !release.startsWith('6.12.');
    const counts = assertVerified(outcome, (probe, release, mode) => {
      if (probe === 'systemd-sysctl-monitor') return onlyOn612(release);
      if (probe === 'systemd-userns-restrict') return onlyOn612(release) || mode === 'core-external-btf';
      return false;
    });
    assert.equal(counts.verified, 3 * 5 * 2 + 2 * 2 + 2, 'the three sized ones everywhere, sysctl-monitor in both modes and userns-restrict with kernel BTF, on both 6.12 kernels');
  });

  it('suricata 7.0.10: all six filters in all five kernels, legacy maps through the legacy guest loader, socket filters typed by policy', async () => {
    const outcome = await buildAndVerify(await mkdtemp(join(work, 'suricata-')), SURICATA, SURICATA_VERIFY);
    const legacy = new Set(['suricata-filter', 'suricata-bypass-filter', 'suricata-xdp-filter', 'suricata-xdp-lb']);
    const counts = assertVerified(outcome, (probe, _release, mode) => legacy.has(probe) && mode === 'core-external-btf');
    assert.equal(counts.verified, 4 * 5 + 2 * 5 + 5, 'four legacy objects with kernel BTF, lb in both modes, vlan_filter per kernel: five kernels');
  });

  it('xdp-tools 1.6.3: the programs attach in all five kernels, both BTF modes, the sample counters sized as the tools do', async () => {
    const outcome = await buildAndVerify(await mkdtemp(join(work, 'xdp-tools-')), XDP_TOOLS, XDP_TOOLS_VERIFY);
    const counts = assertVerified(outcome, (probe, release) => {
      if (probe === 'xdp-load-bytes' || probe === 'xdp-sample') return release.startsWith('5.10.');
      return XDP_TOOLS_VERIFY[probe] === '    verify: false\n';
    });
    // 31 objects, 3 turned off, 2 of the rest off on 5.10 only: 28 objects in 5 kernels, 2 modes, minus 2 x 2.
    assert.equal(counts.verified, 28 * 5 * 2 - 4);
  });
});
