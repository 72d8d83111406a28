/**
 * What verification costs on a real project: by default Falco's modern probe
 * (the largest verified project: one CO-RE object per arch with 339 programs,
 * verified as libpman loads it by test/real-projects/falco.test.ts), or one
 * of verify-corpus.test.ts's projects (xdp-tools: 31 CO-RE objects), built
 * for the five kernels of those tests with their kernels.yaml verify policy,
 * in this run: once to warm the
 * download and compile caches, then into two fresh stores, with --no-verify
 * and with verification. Prints seconds per verified kernel (the verify
 * stage's wall time over the kernels booted, booted up to the cores at
 * once) and the share of the full build spent verifying.
 * Run: npm run bench:verify-real [-- falco-modern|systemd|suricata|xdp-tools]
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kbuild } from '../test/helpers/cli.js';
import { realProject } from '../test/helpers/real-projects.js';
import { layOut, SURICATA, SYSTEMD, XDP_TOOLS, type CorpusProject } from '../test/real-projects/corpus-probes.js';
import { MODERN_VERIFY, MODERN_VERIFY_612_RULE, MODERN_YAML } from '../test/real-projects/falco-probes.js';
import { ARM64_16K, SURICATA_VERIFY, SYSTEMD_VERIFY, VERIFY_KERNELS, XDP_TOOLS_VERIFY, verifyEntry } from '../test/real-projects/verify-policies.js';

/** Lays the project out in `work` beside its kernels.yaml; returns that file and what to call it. */
type Prepare = (work: string) => Promise<{ kernels: string; description: string }>;

const corpus =
  (project: CorpusProject, policy: Readonly<Record<string, string>>): Prepare =>
  async (work) => ({
    kernels: await layOut(work, project, { verify: verifyEntry(policy), kernels: VERIFY_KERNELS }),
    description: `${project.probes.length} probes`,
  });

const falcoModern: Prepare = async (work) => {
  await cp(await realProject('falcosecurity-libs'), join(work, 'libs'), { recursive: true });
  const kernels = join(work, 'kernels.yaml');
  const yaml = MODERN_YAML.replace('    verify: false\n', MODERN_VERIFY + MODERN_VERIFY_612_RULE).replace('btf:\n', `  - { distro: debian, release: ${ARM64_16K}, arch: arm64 }\nbtf:\n`);
  await writeFile(kernels, yaml);
  return { kernels, description: 'driver/modern_bpf, 339 programs per object' };
};

const PROJECTS: Record<string, Prepare> = {
  'falco-modern': falcoModern,
  'xdp-tools': corpus(XDP_TOOLS, XDP_TOOLS_VERIFY),
  systemd: corpus(SYSTEMD, SYSTEMD_VERIFY),
  suricata: corpus(SURICATA, SURICATA_VERIFY),
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

const name = process.argv[2] ?? 'falco-modern';
const prepare = PROJECTS[name];
if (prepare === undefined) throw new Error(`unknown project ${name}: one of ${Object.keys(PROJECTS).join(', ')}`);
const work = await mkdtemp(join(tmpdir(), 'kbuild-bench-verify-real-'));
try {
  const { kernels, description } = await prepare(work);
  // Warm-up: header packages, kernel images, guest loaders and compiles land in the cache.
  await build(kernels, join(work, 'warm'), false);
  const plain = await build(kernels, join(work, 'plain'), false);
  const verified = await build(kernels, join(work, 'verified'), true);
  const v = verified.summary.verify;
  const verifyMs = v.durationMs ?? 0;
  const booted = v.booted ?? 0;
  console.log(`${name}: ${description}, ${verified.summary.built} jobs, five kernels`);
  console.log(`build without verify: ${(plain.ms / 1000).toFixed(1)} s`);
  console.log(`build with verify:    ${(verified.ms / 1000).toFixed(1)} s, of which verifying ${(verifyMs / 1000).toFixed(1)} s (${booted} kernels booted; ${v.ok ?? 0} ok, ${v.failed ?? 0} failed, ${v.notVerifiable ?? 0} not verifiable)`);
  if (booted > 0) console.log(`seconds per verified kernel: ${(verifyMs / 1000 / booted).toFixed(1)} s`);
  console.log(`share of the build spent verifying: ${((100 * verifyMs) / verified.ms).toFixed(1)} %`);
} finally {
  await rm(work, { recursive: true, force: true });
}
