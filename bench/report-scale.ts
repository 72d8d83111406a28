/**
 * How the build matrix page scales: render time and page size for growing
 * synthetic indexes (kernels × probes, every cell verified in QEMU, 5% failed
 * builds), and in real headless Chromium the time to a ready page and to
 * apply a filter. Figures are relative to the smallest matrix of the same run.
 * Run: npm run bench:report
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { ArtifactIndex, INDEX_SCHEMA_VERSION, type IndexArtifact, type IndexFailure, type IndexKernel } from '@kbuild/loader';
import { renderReport } from '../src/report/render-report.js';

const SIZES = [
  { kernels: 10, probes: 2 },
  { kernels: 100, probes: 5 },
  { kernels: 400, probes: 10 },
];
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

function syntheticIndex(kernelCount: number, probeCount: number): ArtifactIndex {
  const kernels: IndexKernel[] = Array.from({ length: kernelCount }, (_, i) => ({
    distro: ['debian', 'ubuntu', 'rocky', 'amzn'][i % 4] ?? 'debian',
    release: `${5 + (i % 2)}.${i % 20}.0-${i}-generic`,
    arch: i % 3 === 0 ? 'arm64' : 'x86_64',
  }));
  const artifacts: IndexArtifact[] = [];
  const failures: IndexFailure[] = [];
  for (let p = 0; p < probeCount; p++) {
    const probe = `probe-${p}`;
    kernels.forEach((kernel, i) => {
      const path = `${probe}/${kernel.arch}/${probe}_${kernel.distro}_${kernel.release}.o`;
      if ((i + p) % 20 === 0) {
        failures.push({ probe, kind: 'non-core', stage: 'build', arch: kernel.arch, kernel, code: 'E_COMPILE', message: `clang failed\n${'error: x\n'.repeat(20)}` });
        return;
      }
      artifacts.push({
        path, probe, kind: 'non-core', arch: kernel.arch, kernel, size: 140_000, sha256: sha(path), buildId: sha(`b${path}`), toolchain: 'clang 14',
        verification: [{ method: 'sha256', result: 'ok' }, { method: 'qemu', result: 'ok', kernel, mode: 'non-core', events: 3, seconds: 4 }],
      });
    });
  }
  return ArtifactIndex.parse({ schemaVersion: INDEX_SCHEMA_VERSION, generatedAt: new Date().toISOString(), generator: 'bench', artifacts, failures });
}

const dir = await mkdtemp(join(tmpdir(), 'kbuild-bench-report-'));
const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
  executablePath: process.env['KBUILD_CHROMIUM'] ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  await renderReport(syntheticIndex(2, 1)); // compiles and caches the template: not part of any figure
  let base: { render: number; bytes: number; load: number; filter: number } | undefined;
  console.log('kernels probes cells | render ms  page KiB | Chromium load ms  filter ms | × smallest (render, size, load, filter)');
  for (const size of SIZES) {
    const index = syntheticIndex(size.kernels, size.probes);
    const started = performance.now();
    const html = await renderReport(index);
    const render = performance.now() - started;
    const file = join(dir, `report-${size.kernels}.html`);
    await writeFile(file, html);
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForSelector('html[data-ready="true"]');
    const load = Date.now() - t0;
    const filter = await page.evaluate(() => {
      const select = document.getElementById('filter-arch') as HTMLSelectElement;
      const t = performance.now();
      select.value = 'arm64';
      select.dispatchEvent(new Event('change'));
      void document.body.offsetHeight; // layout included
      return performance.now() - t;
    });
    await page.close();
    const row = { render, bytes: html.length, load, filter };
    base ??= row;
    const ratio = (a: number, b: number): string => `${(a / b).toFixed(1)}×`;
    console.log(
      `${String(size.kernels).padStart(7)} ${String(size.probes).padStart(6)} ${String(size.kernels * size.probes).padStart(5)} | ${render.toFixed(0).padStart(9)} ${(html.length / 1024).toFixed(0).padStart(9)} | ${String(load).padStart(16)} ${filter.toFixed(1).padStart(10)} | ${ratio(render, base.render)} ${ratio(row.bytes, base.bytes)} ${ratio(load, base.load)} ${ratio(filter, base.filter)}`,
    );
  }
} finally {
  await context.close();
  await rm(dir, { recursive: true, force: true });
}
