/**
 * Slow: a real `kbuild build` (two probes, one failing on 6.12, one kernel
 * served external BTF, a signed index) writes report.html beside index.json;
 * real headless Chromium opens it from file:// and must show the counts of
 * the index, filter rows, and fetch nothing. `kbuild report` is run on the
 * same store and on an index full of hostile strings.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { ArtifactIndex } from '@kbuild/loader';
import { summarizeIndex, type ReportSummary } from '../../src/report/summary.js';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';
import { threeDebianKernels, writeBreakingProbe } from '../helpers/kernel-sets.js';
import { launchChromium, type Browser } from './chromium.js';
import { fixtureIndex } from './report-fixtures.js';

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const HOSTILE = '</script><script>window.__pwned=1</script><img src="http://127.0.0.1:9/x.png" onerror="window.__pwned=2">';

// The three kernels every end-to-end suite builds, a probe that fails on 6.12, and a kernel served external BTF.
const KERNELS_FILE = threeDebianKernels('  - name: breaks\n    source: probes/breaks/execve.bpf.c\n').concat(
  '  - { distro: debian, release: 6.1.0-50-amd64, arch: x86_64, btf: false }\nbtf:\n  sources: [image]\n',
);

/** What the summary cards show, as the page renders them. */
async function shownCounts(page: Page): Promise<Record<string, string>> {
  return page.$$eval('[data-summary]', (nodes) => Object.fromEntries(nodes.map((n) => [n.getAttribute('data-summary') ?? '', (n.textContent ?? '').trim()])));
}

const visibleReleases = (page: Page): Promise<string[]> =>
  page.$$eval('tr.kernel', (rows) => rows.filter((r) => (r as HTMLElement).offsetParent !== null).map((r) => `${r.getAttribute('data-release')} ${r.getAttribute('data-arch')}`));

const expectedCards = (s: ReportSummary): Record<string, string> => ({
  kernels: String(s.kernels),
  artifacts: String(s.artifacts),
  failures: String(s.failures),
  'verified-ok': String(s.verified.ok),
  'verified-failed': String(s.verified.failed),
  'core-check': s.coreCheck.compatible + s.coreCheck.incompatible + s.coreCheck.unknown === 0 ? '—' : String(s.coreCheck.incompatible),
  'btf-saved': s.btf.kernels === 0 ? '—' : `${(s.btf.savedRatio * 100).toFixed(s.btf.savedRatio > 0.999 && s.btf.savedRatio < 1 ? 2 : 1)}%`,
});

describe('build matrix report in headless Chromium (real build, slow)', { timeout: 20 * 60 * 1000 }, () => {
  let work: string;
  let out: string;
  let index: ArtifactIndex;
  let browser: Browser;
  let keyId: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-report-'));
    out = join(work, 'out');
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeBreakingProbe(work);
    await writeFile(join(work, 'kernels.yaml'), KERNELS_FILE);
    const keys = await kbuild(['keygen', '--out', join(work, 'keys'), '--json']);
    assert.equal(keys.exitCode, 0, keys.stderr);
    keyId = (JSON.parse(keys.stdout) as { keyId: string }).keyId;
    const build = await kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--out', out, '--signing-key', join(work, 'keys/kbuild-index.key'), '--json']);
    assert.equal(build.exitCode, 1, `one build fails on 6.12:\n${build.stderr}`);
    assert.match(build.stderr, /kbuild: report: .*report\.html/);
    index = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
    browser = await launchChromium();
    await mkdir(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('build wrote report.html beside the index; Chromium shows the counts of the index and fetches nothing', async (t) => {
    const { page, requests, console } = await browser.open(pathToFileURL(join(out, 'report.html')).href);
    assert.equal(await page.getAttribute('html', 'data-ready'), 'true', `the page's script ran: ${console.join('\n')}`);
    assert.deepEqual(console, [], 'no script error, no CSP violation');
    const summary = summarizeIndex(index);
    assert.deepEqual(await shownCounts(page), expectedCards(summary));
    // The same facts from the build's input, not from the report's own code: 4 kernels, 1 failure, 1 kernel without BTF.
    assert.equal(summary.kernels, 4);
    assert.equal(await page.locator('tr.kernel').count(), 4);
    assert.equal(await page.locator('td.cell.status-failed').count(), index.failures.length);
    assert.equal(await page.locator('td.cell.status-failed').getAttribute('data-status'), 'failed');
    assert.match((await page.locator('tr.kernel', { has: page.locator('td.status-failed') }).textContent()) ?? '', /6\.12\.117\+deb13-cloud-amd64/);
    assert.match((await page.locator('#failure-1 pre').textContent()) ?? '', /undeclared_on_612/);
    assert.equal((await page.locator('#trust').textContent())?.trim(), `signed by key ${keyId}`);
    assert.equal(await page.locator('#btf tbody tr').count(), 2 + 1, 'one row per probe for the kernel without BTF, and the total');
    const screenshot = join(ARTIFACTS, 'report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    t.diagnostic(`screenshot: ${screenshot}`);
    assert.deepEqual(
      requests.filter((url) => !url.startsWith('file://')),
      [],
      'no request beyond the file itself',
    );
    assert.equal(requests.length, 1);
    await page.close();
  });

  it('filters rows by arch and status in the browser, without a server', async () => {
    const { page } = await browser.open(pathToFileURL(join(out, 'report.html')).href);
    const all = index.artifacts.filter((a) => a.kind === 'non-core').map((a) => `${a.kernel.release} ${a.kernel.arch}`);
    await page.selectOption('#filter-arch', 'arm64');
    assert.deepEqual(await visibleReleases(page), [...new Set(all.filter((k) => k.endsWith(' arm64')))]);
    assert.equal(await page.textContent('#shown-count'), '1');
    await page.selectOption('#filter-arch', '');
    await page.selectOption('#filter-status', 'failed');
    const failed = index.failures.map((f) => `${f.kernel.release} ${f.kernel.arch}`);
    assert.deepEqual(await visibleReleases(page), failed);
    await page.selectOption('#filter-arch', 'arm64');
    assert.deepEqual(await visibleReleases(page), [], 'nothing failed on arm64');
    assert.equal(await page.locator('tbody.group:not([hidden])').count(), 0, 'an empty distro group hides too');
    await page.click('#filter-reset');
    assert.equal((await visibleReleases(page)).length, 4);
    // The filter is kept in the URL: a link opens the page filtered.
    await page.selectOption('#filter-status', 'failed');
    const linked = await browser.open(page.url());
    assert.deepEqual(await visibleReleases(linked.page), failed);
    await linked.page.close();
    await page.close();
  });

  it('kbuild report reads the signed store like fetch and refuses a tampered index', async () => {
    const html = join(work, 'signed-report.html');
    const ok = await kbuild(['report', '--index', out, '--public-key', join(work, 'keys/kbuild-index.pub'), '--out', html, '--json']);
    assert.equal(ok.exitCode, 0, ok.stderr);
    const printed = JSON.parse(ok.stdout) as { out: string; trust: { signed: boolean; keyId: string }; summary: ReportSummary };
    assert.deepEqual(printed.summary, JSON.parse(JSON.stringify(summarizeIndex(index))));
    assert.deepEqual(printed.trust, { signed: true, keyId });
    assert.equal(printed.out, html);

    const tampered = join(work, 'tampered');
    await mkdir(tampered);
    await cp(join(out, 'index.json.sig'), join(tampered, 'index.json.sig'));
    await writeFile(join(tampered, 'index.json'), (await readFile(join(out, 'index.json'), 'utf8')).replace('"E_COMPILE"', '"E_FINE"'));
    const refused = await kbuild(['report', '--index', join(tampered, 'index.json'), '--public-key', join(work, 'keys/kbuild-index.pub'), '--out', join(work, 'no.html')]);
    assert.notEqual(refused.exitCode, 0);
    assert.match(refused.stderr, /signature does not match/);
    const unsigned = await kbuild(['report', '--index', out, '--out', join(work, 'no.html')]);
    assert.equal(unsigned.exitCode, 2, 'no key and no --allow-unsigned');
  });

  it('an index of hostile strings shows them as text and runs none of them', async () => {
    const dir = join(work, 'hostile');
    await mkdir(dir);
    const hostile = fixtureIndex({ hostile: HOSTILE });
    await writeFile(join(dir, 'index.json'), JSON.stringify(hostile));
    const html = join(dir, 'report.html');
    const result = await kbuild(['report', '--index', pathToFileURL(join(dir, 'index.json')).href, '--allow-unsigned', '--out', html]);
    assert.equal(result.exitCode, 0, result.stderr);
    const { page, requests } = await browser.open(pathToFileURL(html).href);
    assert.equal(await page.getAttribute('html', 'data-ready'), 'true');
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator('img').count(), 0);
    assert.ok(((await page.locator('#failure-1 pre').textContent()) ?? '').endsWith(HOSTILE), 'the string is shown verbatim');
    const data = JSON.parse((await page.textContent('#kbuild-report-data')) ?? '') as { generator: string };
    assert.equal(data.generator, hostile.generator);
    assert.deepEqual(requests.filter((url) => !url.startsWith('file://')), []);
    await page.close();
  });

  it('shows QEMU results of every kind (index fixture) and filters the verified cells', async (t) => {
    const dir = join(work, 'verified');
    await mkdir(dir);
    const verified = fixtureIndex();
    await writeFile(join(dir, 'index.json'), JSON.stringify(verified));
    const html = join(dir, 'report.html');
    const result = await kbuild(['report', '--index', dir, '--allow-unsigned', '--out', html]);
    assert.equal(result.exitCode, 0, result.stderr);
    const { page } = await browser.open(pathToFileURL(html).href);
    assert.deepEqual(await shownCounts(page), expectedCards(summarizeIndex(verified)));
    const chips = await page.$$eval('.chip', (nodes) => nodes.map((n) => n.textContent?.trim()));
    const qemuEntries = verified.artifacts.flatMap((a) => a.verification).filter((v) => v.method === 'qemu');
    assert.equal(chips.filter((c) => c?.endsWith('✓')).length, qemuEntries.filter((v) => v.result === 'ok').length);
    assert.equal(chips.filter((c) => c?.endsWith('✗')).length, verified.failures.filter((f) => f.stage === 'verify').length);
    await page.selectOption('#filter-distro', 'ubuntu');
    assert.deepEqual(await visibleReleases(page), ['5.15.0-100-generic x86_64', '6.8.0-40-generic arm64']);
    await page.selectOption('#filter-distro', '');
    // Rows with a cell that passed QEMU and failed nothing: jammy failed both probes, the arm64 kernels ran none (bookworm) or could not (noble).
    await page.selectOption('#filter-status', 'verified');
    assert.deepEqual(await visibleReleases(page), ['5.10.0-32-cloud-amd64 x86_64', '6.1.0-50-cloud-amd64 x86_64', '6.12.117+deb13-cloud-amd64 x86_64']);
    const screenshot = join(ARTIFACTS, 'report-qemu.png');
    await page.selectOption('#filter-status', '');
    await page.screenshot({ path: screenshot, fullPage: true });
    t.diagnostic(`screenshot: ${screenshot}`);
    await page.close();
  });
});
