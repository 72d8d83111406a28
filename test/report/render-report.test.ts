import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REPORT_DATA_ID, renderReport } from '../../src/report/render-report.js';
import { scriptSafeJson } from '../../src/report/format.js';
import { summarizeIndex } from '../../src/report/summary.js';
import { fixtureIndex } from './report-fixtures.js';

const HOSTILE = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> \u2028\u2029 <!-- {{x}} \' " & `';

const scriptData = (html: string): unknown => {
  const match = new RegExp(`<script type="application/json" id="${REPORT_DATA_ID}">([^<]*)</script>`).exec(html);
  assert.ok(match, 'the data element is there and holds no "<"');
  return JSON.parse(match[1] ?? '');
};

describe('renderReport', () => {
  it('writes one page with no external reference', async () => {
    const html = await renderReport(fixtureIndex(), { source: '/srv/out/index.json' });
    assert.match(html, /^<!DOCTYPE html>/);
    assert.doesNotMatch(html, /\b(src|href)="(https?:)?\/\//i, 'no external src/href');
    assert.doesNotMatch(html, /@import|url\(/i, 'no CSS that loads anything');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  });

  it('escapes every index string and keeps the embedded JSON inside its element', async () => {
    const index = fixtureIndex({ hostile: HOSTILE });
    const html = await renderReport(index, { source: `s3://bucket/${HOSTILE}` });
    // Only the page's own two script elements exist, and no attribute handler came through
    // (the JSON element holds the strings verbatim, as inert data).
    assert.equal(html.match(/<script\b/g)?.length, 2);
    const markup = html.replace(/<script type="application\/json"[^>]*>[^<]*<\/script>/, '');
    assert.doesNotMatch(markup, /<img\b/);
    assert.doesNotMatch(markup, /onerror=/);
    const scripts = html.match(/<script\b[^>]*>[\s\S]*?<\/script>/g) ?? [];
    assert.equal(scripts.length, 2);
    for (const script of scripts) assert.doesNotMatch(script, /[\u2028\u2029]/, 'U+2028/9 escaped inside script elements');
    assert.match(html, /&lt;script&gt;window.__pwned&#x3D;1&lt;\/script&gt;/, 'the hostile text is shown as text');
    const data = scriptData(html) as { generator: string; source: string; summary: unknown };
    assert.equal(data.generator, index.generator, 'the JSON reads back exactly');
    assert.equal(data.source, `s3://bucket/${HOSTILE}`);
    assert.deepEqual(data.summary, JSON.parse(JSON.stringify(summarizeIndex(index))));
  });

  it('links each cell to its objects and BTF with size and short sha256, the full one in its details', async () => {
    const index = fixtureIndex();
    const html = await renderReport(index);
    const btf = index.kernelBtf[0]?.objects[0]?.btf;
    assert.ok(btf);
    for (const blob of [...index.artifacts, btf]) {
      assert.ok(html.includes(`<a class="file" href="${blob.path}">`), blob.path);
      assert.ok(html.includes(`<span class="sha">${blob.sha256.slice(0, 12)}</span>`), blob.path);
      assert.ok(html.includes(`sha256 ${blob.sha256}`), `${blob.path}: full sha256 in details`);
    }
    assert.equal(html.match(/<details class="more">/g)?.length, html.match(/<td class="cell /g)?.length, 'one details per cell');
    assert.doesNotMatch(html.slice(html.indexOf('id="matrix"'), html.indexOf('</table>')), /\btitle=/, 'no fact only in a tooltip');
  });

  it('heads the page with the kernels left with nothing loadable, escaped', async () => {
    const ok = await renderReport(fixtureIndex());
    assert.match(ok, /data-unloadable="0"[^]*Every kernel has a loadable artifact for every probe/);
    const index = fixtureIndex({ hostile: HOSTILE });
    // Without CO-RE objects: trixie's opensnoop did not build, jammy's failed QEMU (with a hostile detail).
    const artifacts = index.artifacts
      .filter((a) => a.kind === 'non-core')
      .map((a) => ({ ...a, verification: a.verification.map((v) => (v.result === 'failed' ? { ...v, detail: HOSTILE } : v)) }));
    const html = await renderReport({ ...index, artifacts });
    const head = html.slice(html.indexOf('id="unloadable"'), html.indexOf('id="summary"'));
    assert.match(head, /data-unloadable="2"/);
    assert.match(head, /2 kernels with no loadable artifact for some probe/);
    assert.match(head, /debian 6\.12\.117\+deb13-cloud-amd64 x86_64<\/span>: <b>opensnoop<\/b> — opensnoop: no artifact was built for this kernel or its arch/);
    assert.match(head, /ubuntu 5\.15\.0-100-generic x86_64<\/span>: <b>opensnoop<\/b> — opensnoop: failed QEMU verification .*&lt;\/script&gt;/);
    assert.doesNotMatch(head, /<img|<script/);
  });

  it('shows the summary counts it computed', async () => {
    const index = fixtureIndex();
    const html = await renderReport(index);
    const s = summarizeIndex(index);
    const shown = (key: string): string | undefined => new RegExp(`data-summary="${key}">([^<]*)<`).exec(html)?.[1];
    assert.equal(shown('kernels'), String(s.kernels));
    assert.equal(shown('artifacts'), String(s.artifacts));
    assert.equal(shown('failures'), String(s.failures));
    assert.equal(shown('verified-ok'), String(s.verified.ok));
    assert.equal(shown('verified-failed'), String(s.verified.failed));
    assert.equal(html.match(/<tr class="kernel"/g)?.length, s.kernels);
  });

  it('renders an empty index (nothing built yet) with zero counts', async () => {
    const empty = { ...fixtureIndex(), artifacts: [], failures: [], kernelBtf: [] };
    const html = await renderReport(empty);
    assert.match(html, /data-summary="kernels">0</);
    assert.match(html, /No failures\./);
    assert.equal(html.match(/<tr class="kernel"/g), null);
  });

  it('clips a huge failure log on the page', async () => {
    const index = fixtureIndex();
    const failure = index.failures[0];
    assert.ok(failure);
    const huge = { ...index, failures: [{ ...failure, message: `start\n${'x'.repeat(60_000)}` }] };
    const html = await renderReport(huge);
    assert.match(html, /more characters in index.json/);
    assert.ok(html.length < (await renderReport(fixtureIndex())).length + 20_000);
  });
});

describe('scriptSafeJson', () => {
  it('round-trips and never contains "<", ">", "&" or U+2028/9', () => {
    const value = { a: '</script><!--&\u2028\u2029', b: [1, '>'] };
    const text = scriptSafeJson(value);
    assert.doesNotMatch(text, /[<>&\u2028\u2029]/);
    assert.deepEqual(JSON.parse(text), value);
  });
});
