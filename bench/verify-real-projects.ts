/**
 * What verification costs on a real project: xdp-tools (the largest corpus
 * project verified by test/real-projects/verify-corpus.test.ts: 31 CO-RE
 * objects, 21 of them proven per kernel) built for the five kernels of that
 * test with its kernels.yaml verify policy, in this run: once to warm the
 * download and compile caches, then into two fresh stores, with --no-verify
 * and with verification. Prints seconds per verified kernel (the verify
 * stage's wall time over the kernels booted, booted up to the cores at
 * once) and the share of the full build spent verifying.
 * Run: npm run bench:verify-real [-- systemd|suricata|xdp-tools]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kbuild } from '../test/helpers/cli.js';
import { layOut, SURICATA, SYSTEMD, XDP_TOOLS, type CorpusProject } from '../test/real-projects/corpus-probes.js';
import { SURICATA_VERIFY, SYSTEMD_VERIFY, VERIFY_KERNELS, XDP_TOOLS_VERIFY, verifyEntry } from '../test/real-projects/verify-policies.js';

const PROJECTS: Record<string, { project: CorpusProject; policy: Readonly<Record<string, string>> }> = {
  'xdp-tools': { project: XDP_TOOLS, policy: XDP_TOOLS_VERIFY },
  systemd: { project: SYSTEMD, policy: SYSTEMD_VERIFY },
  suricata: { project: SURICATA, policy: SURICATA_VERIFY },
};

interface Summary {
  readonly built: number;
  readonly verify: { durationMs?: number; booted?: number; ok?: number; failed?: number; notVerifiable?: number };
}

async function build(kernels: string, out: string, verify: boolean): Promise<{ ms: number; summary: Summary }> {
  const started = performance.now();
  const result = await kbuild(['build', '--kernels', kernels, '--out', out, '--json'], { verify });
  const ms = performance.now() - started;
  if (result.exitCode !== 0) throw new Error(`kbuild build exited ${result.exitCode}:\n${result.stderr.slice(-4000)}`);
  return { ms, summary: JSON.parse(result.stdout) as Summary };
}

const name = process.argv[2] ?? 'xdp-tools';
const chosen = PROJECTS[name];
if (chosen === undefined) throw new Error(`unknown project ${name}: one of ${Object.keys(PROJECTS).join(', ')}`);
const work = await mkdtemp(join(tmpdir(), 'kbuild-bench-verify-real-'));
try {
  const kernels = await layOut(work, chosen.project, { verify: verifyEntry(chosen.policy), kernels: VERIFY_KERNELS });
  // Warm-up: header packages, kernel images, guest loaders and compiles land in the cache.
  await build(kernels, join(work, 'warm'), false);
  const plain = await build(kernels, join(work, 'plain'), false);
  const verified = await build(kernels, join(work, 'verified'), true);
  const v = verified.summary.verify;
  const verifyMs = v.durationMs ?? 0;
  const booted = v.booted ?? 0;
  console.log(`${name}: ${chosen.project.probes.length} probes, ${verified.summary.built} jobs, five kernels`);
  console.log(`build without verify: ${(plain.ms / 1000).toFixed(1)} s`);
  console.log(`build with verify:    ${(verified.ms / 1000).toFixed(1)} s, of which verifying ${(verifyMs / 1000).toFixed(1)} s (${booted} kernels booted; ${v.ok ?? 0} ok, ${v.failed ?? 0} failed, ${v.notVerifiable ?? 0} not verifiable)`);
  if (booted > 0) console.log(`seconds per verified kernel: ${(verifyMs / 1000 / booted).toFixed(1)} s`);
  console.log(`share of the build spent verifying: ${((100 * verifyMs) / verified.ms).toFixed(1)} %`);
} finally {
  await rm(work, { recursive: true, force: true });
}
