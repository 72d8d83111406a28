/**
 * Slow (one QEMU boot): opensnitch 1.6.9's three objects, unmodified, built
 * per kernel by `kbuild build` and verified in Debian's 6.1 x86_64 kernel.
 * Two things had to be right for that: the non-CO-RE IR travels between
 * clang, opt and llc as bitcode (as text, LLVM 14 emitted a ctx read through
 * a moved pointer in opensnitch-procs' execve tracepoint, which the verifier
 * refuses), and the guest loads gobpf's per-map "maps/<name>" sections, which
 * no libbpf opens, the way opensnitchd's gobpf does.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex } from '@kbuild/loader';
import { kbuild } from '../helpers/cli.js';
import { layOut, OPENSNITCH } from './corpus-probes.js';

const KERNEL = `kernels:
  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64 }
`;

describe('opensnitch 1.6.9 built and verified in QEMU (real Debian kernel, slow)', { timeout: 20 * 60 * 1000 }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-opensnitch-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('loads and attaches its kprobes and tracepoints the way gobpf does; the DNS uprobes are loaded', async () => {
    const kernels = await layOut(work, OPENSNITCH, { verify: () => '', kernels: KERNEL });
    const out = join(work, 'out');
    const result = await kbuild(['build', '--kernels', kernels, '--out', out], { verify: true });
    assert.equal(result.exitCode, 0, `${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
    const index = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
    const expected: Record<string, Record<string, number>> = {
      opensnitch: { attached: 9 },
      'opensnitch-procs': { attached: 5 },
      'opensnitch-dns': { loaded: 3 },
    };
    for (const [probe, counts] of Object.entries(expected)) {
      const entry = index.artifacts.find((a) => a.probe === probe)?.verification?.find((v) => v.method === 'qemu');
      assert.equal(entry?.result, 'ok', `${probe}: ${entry?.firstError ?? entry?.detail ?? 'no qemu entry'}`);
      const tally: Record<string, number> = {};
      for (const p of entry?.programs ?? []) tally[p.result] = (tally[p.result] ?? 0) + 1;
      assert.deepEqual(tally, counts, probe);
    }
  });
});
