// The share of a full build's wall time spent verifying in QEMU: the same
// kernels file (default: the repository's kernels.yaml) built twice in this
// run into fresh stores, once with --no-verify and once with the verify stage,
// after a warm-up build so both measure builds with cached downloads.
//   npm run bench:verify-share [-- path/to/kernels.yaml]
import { execa } from 'execa';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'kbuild.js');
const kernels = resolve(process.argv[2] ?? join(ROOT, 'kernels.yaml'));

interface Summary {
  readonly built: number;
  readonly failed: number;
  readonly verify: { enabled: boolean; durationMs?: number; kernels?: unknown[]; ok?: number; failed?: number; notVerifiable?: number; booted?: number };
}

async function build(out: string, verify: boolean): Promise<{ ms: number; summary: Summary }> {
  const started = performance.now();
  const result = await execa('node', [CLI, 'build', '--kernels', kernels, '--out', out, '--json', ...(verify ? [] : ['--no-verify'])], { reject: false, cwd: dirname(kernels) });
  const ms = performance.now() - started;
  if (result.exitCode !== 0 && result.exitCode !== 1) throw new Error(`kbuild build exited ${result.exitCode}: ${result.stderr}`);
  return { ms, summary: JSON.parse(result.stdout) as Summary };
}

const work = await mkdtemp(join(tmpdir(), 'kbuild-bench-verify-share-'));
try {
  await cp(join(ROOT, 'probes'), join(work, 'probes'), { recursive: true });
  // Warm-up: header packages, kernel images and the guest loaders land in the cache.
  await build(join(work, 'warm'), true);
  const plain = await build(join(work, 'plain'), false);
  const verified = await build(join(work, 'verified'), true);
  const v = verified.summary.verify;
  const verifyMs = v.durationMs ?? 0;
  const kernelsBooted = v.booted ?? 0;
  console.log(`kernels file: ${kernels}`);
  console.log(`build without verify: ${(plain.ms / 1000).toFixed(1)} s (${plain.summary.built} built)`);
  console.log(`build with verify:    ${(verified.ms / 1000).toFixed(1)} s, of which verifying ${(verifyMs / 1000).toFixed(1)} s (${kernelsBooted} kernels booted; ${v.ok ?? 0} ok, ${v.failed ?? 0} failed, ${v.notVerifiable ?? 0} not verifiable)`);
  console.log(`share of the build spent verifying: ${((100 * verifyMs) / verified.ms).toFixed(1)} %`);
  console.log(`with verify / without: ${(verified.ms / plain.ms).toFixed(2)}x`);
  if (kernelsBooted > 0) console.log(`verify wall time per booted kernel (booted in parallel up to the cores): ${(verifyMs / 1000 / kernelsBooted).toFixed(1)} s`);
} finally {
  await rm(work, { recursive: true, force: true });
}
