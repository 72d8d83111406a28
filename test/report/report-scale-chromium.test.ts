/**
 * The report at fleet size: 300 kernels × 10 probes rendered from a synthetic
 * index and opened in real headless Chromium from file://. The headline, a
 * cell's sha256 and its details must be visible text (not tooltips), the page
 * must stay within size bounds, and it must fetch nothing.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { renderReport } from '../../src/report/render-report.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { launchChromium, type Browser } from './chromium.js';
import { CONTRADICTED, scaleIndex } from './scale-fixture.js';

const KERNELS = 300;
const PROBES = 10;
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

describe('report at 300 kernels × 10 probes in headless Chromium', { timeout: 5 * 60 * 1000 }, () => {
  const { index, unloadable } = scaleIndex(KERNELS, PROBES);
  let work: string;
  let file: string;
  let browser: Browser;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-report-scale-'));
    file = join(work, 'report.html');
    await writeFile(file, await renderReport(index, { source: join(work, 'index.json') }));
    browser = await launchChromium();
    await mkdir(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('shows the headline, sha256 and details as text, in a bounded page, fetching nothing', async (t) => {
    const { page, requests, console } = await browser.open(pathToFileURL(file).href);
    assert.deepEqual(console, [], 'no script error, no CSP violation');
    assert.deepEqual(requests, [pathToFileURL(file).href], 'no request beyond the file itself');

    // The headline names every kernel left with nothing loadable, in visible text.
    const headline = page.locator('#unloadable');
    assert.ok(await headline.isVisible(), 'headline visible');
    const headlineText = await headline.innerText();
    assert.match(headlineText, new RegExp(`${unloadable.length} kernels with no loadable artifact`));
    for (const kernel of unloadable) assert.ok(headlineText.includes(`${kernel.distro} ${kernel.release} ${kernel.arch}`), `${kernel.release} in the headline`);
    assert.equal(await page.locator('td.cell .load', { hasText: 'loads nothing' }).count(), unloadable.length * PROBES);

    // The first cell: its object's short sha256 is visible text, and a click shows the full one.
    const object = index.artifacts.find((a) => a.kind === 'non-core' && a.path.startsWith('probe-0/'));
    assert.ok(object, 'fixture has a probe-0 object');
    const k = object.kernel;
    const row = page.locator(`tr.kernel[data-distro="${k.distro}"][data-release="${k.release}"][data-arch="${k.arch}"]`);
    assert.equal(await row.count(), 1);
    const cell = row.locator('td.cell').first();
    const sha = cell.locator('.sha').first();
    assert.ok(await sha.isVisible(), 'short sha256 visible');
    assert.equal(await sha.innerText(), object.sha256.slice(0, 12));
    assert.equal(await cell.locator('a.file').first().getAttribute('href'), object.path, 'a relative link into the store');
    assert.ok(!(await cell.innerText()).includes(object.sha256), 'folded: only the short form');
    await cell.locator('details.more summary').click();
    assert.ok((await cell.locator('details.more').innerText()).includes(object.sha256), 'the full sha256 is readable once unfolded');
    const fontSize = await sha.evaluate((n) => parseFloat(getComputedStyle(n).fontSize));
    assert.ok(fontSize >= 10, `sha256 in ${fontSize}px`);
    await cell.locator('details.more summary').click();

    // Compact: bounded per row and per column, no attributes carrying facts as tooltips only.
    const box = await page.evaluate(() => {
      const table = document.getElementById('matrix');
      return { height: document.documentElement.scrollHeight, tableWidth: table?.scrollWidth ?? 0, tableHeight: table?.scrollHeight ?? 0 };
    });
    t.diagnostic(`page ${box.height}px high, matrix ${box.tableWidth}×${box.tableHeight}px`);
    assert.ok(box.tableHeight <= KERNELS * 85, `matrix ${box.tableHeight}px high for ${KERNELS} kernels`);
    assert.ok(box.tableWidth <= PROBES * 330 + 300, `matrix ${box.tableWidth}px wide for ${PROBES} probes`);
    assert.equal(await page.locator('#matrix [title]').count(), 0, 'nothing in the matrix hides in a tooltip');

    const screenshot = join(ARTIFACTS, 'report-300x10.png');
    await page.screenshot({ path: screenshot });
    t.diagnostic(`screenshot: ${screenshot}`);
    await page.close();
  });

  it('shows the CO-RE coverage map (300 kernels × 10 objects) compactly, failures readable in details, the QEMU contradiction flagged', async (t) => {
    const { page, console } = await browser.open(pathToFileURL(file).href);
    assert.deepEqual(console, []);
    const map = page.locator('#coverage');
    assert.equal(await map.locator('tr.coverage-kernel').count(), KERNELS);
    assert.equal(await map.locator('thead th.probe').count(), PROBES);
    // Every check of the fixture is a cell with its result as text.
    const checks = index.artifacts.flatMap((a) => a.coreCheck ?? []);
    assert.equal(await map.locator('td.cov.result-incompatible').count(), checks.filter((c) => c.result === 'incompatible').length);
    assert.equal(await map.locator('td.cov.result-unknown').count(), checks.filter((c) => c.result === 'unknown').length);

    // An incompatible cell names the type and field in visible text; its details give the relocation once unfolded.
    const kernel = index.artifacts.find((a) => a.path === CONTRADICTED.path)?.coreCheck?.find((c) => c.result === 'incompatible')?.kernel;
    assert.ok(kernel, 'the fixture has an incompatible kernel for the contradicted object');
    const row = map.locator(`tr.coverage-kernel[data-release="${kernel.release}"][data-arch="${kernel.arch}"]`);
    const cell = row.locator('td.cov').first();
    await cell.scrollIntoViewIfNeeded();
    assert.match(await cell.innerText(), /✗ incompatible\s+struct module\.core_layout\.base/);
    assert.ok(await cell.locator('.why').isVisible());
    assert.ok(!(await cell.locator('details.more div').first().isVisible()), 'folded');
    await cell.locator('details.more summary').click();
    assert.match(await cell.locator('details.more').innerText(), /relocation tp_btf\/sys_enter#\d+ \(byte_off\): struct module field core_layout\.base not found/);

    // QEMU loaded it there: the cell and the section's headline say so, as text.
    assert.ok(await cell.locator('.bug').isVisible());
    assert.match(await cell.locator('.bug').innerText(), /QEMU loaded it/);
    assert.match(await page.locator('#disagreements').innerText(), new RegExp(`probe-0 on ${kernel.distro} ${kernel.release.replace(/[.+]/g, '\\$&')} x86_64`));
    assert.equal(await page.locator('[data-summary="core-check"]').innerText(), String(checks.filter((c) => c.result === 'incompatible').length));

    // Compact: a row is one line unless it holds a failure; no fact only in a tooltip.
    await cell.locator('details.more summary').click();
    const box = await map.evaluate((n) => ({ width: n.scrollWidth, height: n.scrollHeight }));
    t.diagnostic(`coverage map ${box.width}×${box.height}px`);
    assert.ok(box.height <= KERNELS * 45, `coverage map ${box.height}px high for ${KERNELS} kernels`);
    assert.ok(box.width <= PROBES * 200 + 350, `coverage map ${box.width}px wide for ${PROBES} objects`);
    assert.equal(await map.locator('[title]').count(), 0);

    // The page's arch filter applies to the map too.
    await page.selectOption('#filter-arch', 'arm64');
    assert.equal(await map.locator('tr.coverage-kernel:not([hidden])').count(), index.artifacts.find((a) => a.path === 'core/arm64/probe-0.o')?.coreCheck?.length);
    await page.selectOption('#filter-arch', '');

    const screenshot = join(ARTIFACTS, 'report-coverage-300x10.png');
    await map.screenshot({ path: screenshot });
    t.diagnostic(`screenshot: ${screenshot}`);
    await page.close();
  });
});
