import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArtifactIndex, type IndexCoreCheck, type IndexKernel } from '@kbuild/loader';
import { coreCoverage } from '../../src/report/core-coverage.js';
import { renderReport } from '../../src/report/render-report.js';
import { summarizeIndex } from '../../src/report/summary.js';
import { fixtureIndex, KERNELS } from './report-fixtures.js';

/** A kernel only an archive crawl found: no build, no boot, only a prediction. */
const ARCHIVE_ONLY: IndexKernel = { distro: 'debian', release: '6.12.48+deb13-amd64', arch: 'x86_64' };
const RENAMED = { relocation: '.text#3', kind: 'byte_off', type: 'struct module', field: 'core_layout.base' };

/**
 * The fixture index with offline predictions on execve's x86_64 CO-RE object:
 * compatible where QEMU loaded it (agreement), incompatible on trixie where
 * QEMU loaded it (a disagreement: the report must flag it), unknown on a
 * kernel without BTF, and a stale entry (other bytes) on the arm64 object.
 */
function checkedIndex(): ArtifactIndex {
  const base = fixtureIndex();
  const artifacts = base.artifacts.map((a) => {
    if (a.kind !== 'core' || a.probe !== 'execve') return a;
    const entry = (kernel: IndexKernel, result: IndexCoreCheck['result'], extra: Partial<IndexCoreCheck> = {}): IndexCoreCheck =>
      ({ kernel, result, coreSha256: a.sha256, relocations: 40, ...extra });
    const coreCheck = a.arch === 'x86_64'
      ? [
        entry(KERNELS.bookworm, 'compatible', { btfSource: 'image' }),
        entry(KERNELS.trixie, 'incompatible', { failures: [RENAMED], detail: '1 CO-RE relocation cannot resolve on this kernel: struct module.core_layout.base' }),
        entry(KERNELS.bullseye, 'compatible', { guarded: 2 }),
        entry(ARCHIVE_ONLY, 'unknown', { detail: 'no BTF for this kernel: no image, no -dbg package' }),
      ]
      : [{ ...entry(KERNELS.bookwormArm, 'incompatible', { failures: [RENAMED] }), coreSha256: 'f'.repeat(64) }];
    return { ...a, coreCheck };
  });
  return ArtifactIndex.parse({ ...base, artifacts });
}

describe('report: the offline CO-RE check as a coverage map', () => {
  it('maps kernels (also archive-only ones) × CO-RE objects, ignores stale entries, flags what QEMU contradicts', () => {
    const view = coreCoverage(checkedIndex());
    assert.deepEqual(view.probes, ['execve', 'opensnoop']);
    assert.deepEqual(view.rows.map((r) => r.release), ['5.10.0-32-cloud-amd64', '6.1.0-50-cloud-amd64', '6.12.48+deb13-amd64', '6.12.117+deb13-cloud-amd64']);
    assert.deepEqual(view.counts, { compatible: 2, incompatible: 1, unknown: 1, comparedWithQemu: 5, disagreements: 2 });
    const trixie = view.rows.find((r) => r.release === KERNELS.trixie.release);
    const cell = trixie?.cells[0];
    assert.equal(cell?.result, 'incompatible');
    assert.equal(cell?.headline, 'struct module.core_layout.base');
    assert.match(cell?.disagreement ?? '', /QEMU loaded it/, 'QEMU loaded it in both BTF modes: two disagreements');
    assert.ok(cell?.details.includes('relocation .text#3 (byte_off): struct module field core_layout.base not found'), cell?.details.join('\n'));
    assert.equal(trixie?.cells[1]?.result, 'not-checked', 'opensnoop was not checked');
    const bullseye = view.rows.find((r) => r.release === KERNELS.bullseye.release)?.cells[0];
    assert.equal(bullseye?.disagreement, '', 'compatible and QEMU ok agree');
    assert.ok(bullseye?.details.some((d) => /2 unresolved but guarded/.test(d)));
    assert.equal(view.rows.find((r) => r.release === ARCHIVE_ONLY.release)?.cells[0]?.headline, 'no BTF');
    assert.deepEqual(summarizeIndex(checkedIndex()).coreCheck, view.counts);
  });

  it('renders the failing relocation, type and field as text in a details element, and the disagreement beside it', async () => {
    const html = await renderReport(checkedIndex());
    const table = /<table class="coverage" id="coverage">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
    assert.ok(table !== '', 'the coverage table is there');
    const row = /<tr class="coverage-kernel"[^>]*data-release="6\.12\.117\+deb13-cloud-amd64"[^>]*>([\s\S]*?)<\/tr>/.exec(table)?.[1] ?? '';
    const cell = /<td class="cov result-incompatible disagree"[^>]*>([\s\S]*?)<\/td>/.exec(row)?.[1] ?? '';
    assert.match(cell, /✗ incompatible/);
    assert.match(cell.replace(/<details[\s\S]*<\/details>/, ''), /struct module\.core_layout\.base/, 'type and field visible without unfolding');
    assert.match(cell, /<details class="more"><summary>details<\/summary>.*relocation \.text#3 \(byte_off\): struct module field core_layout\.base not found/);
    assert.match(cell, /≠ QEMU loaded it \(core-kernel-btf\)/);
    assert.doesNotMatch(table, /title=/, 'nothing hides in a tooltip');
    assert.match(html, /id="disagreements"[\s\S]*2 predictions contradicted by QEMU[\s\S]*execve<\/b> on <span class="mono">debian 6\.12\.117\+deb13-cloud-amd64 x86_64 \(core-kernel-btf\)/);
    assert.match(html, /data-summary="core-check">1</);
  });

  it('says there is no check when the index has none', async () => {
    const html = await renderReport(fixtureIndex());
    assert.match(html, /No offline CO-RE check in this index/);
    assert.doesNotMatch(html, /<table class="coverage"/);
  });
});
