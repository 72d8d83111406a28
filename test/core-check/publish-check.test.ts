/**
 * Slow (real Debian kernels, a real farm): `build --core-check` and
 * `submit --core-check` run the offline CO-RE check before publishing, so the
 * published index carries the predictions. The build set is the CO-RE
 * check's own fixtures (compiled in seconds) on 5.10, 6.1 and 6.12.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex } from '@kbuild/loader';
import { kernelsInScope } from '../../src/core-check/check-scope.js';
import { kbuild } from '../helpers/cli.js';
import { farmFixture, REDIS_URL } from '../helpers/farm.js';
import { CHECK_KERNELS, FIXTURES } from './fixtures.js';

const KERNELS = `probes:
  - name: renamed
    source: probes/core-check/renamed.bpf.c
    builds: [core]
  - name: guarded
    source: probes/core-check/guarded.bpf.c
    builds: [core]
btf:
  sources: [image]
kernels:
${Object.values(CHECK_KERNELS).map((k) => `  - { distro: debian, release: ${k.release}, arch: x86_64, btf: true }`).join('\n')}
`;

/** renamed reads module.core_layout.base: gone in 6.12; guarded reads it behind bpf_core_field_exists. */
function assertPredictions(index: ArtifactIndex): void {
  const on = (probe: string, release: string) => index.artifacts.find((a) => a.probe === probe)?.coreCheck?.find((c) => c.kernel.release === release);
  assert.equal(on('renamed', CHECK_KERNELS.bullseye.release)?.result, 'compatible');
  assert.equal(on('renamed', CHECK_KERNELS.bookworm.release)?.result, 'compatible');
  assert.equal(on('renamed', CHECK_KERNELS.trixie.release)?.result, 'incompatible');
  assert.equal(on('renamed', CHECK_KERNELS.trixie.release)?.failures?.[0]?.field, 'core_layout.base');
  for (const kernel of Object.values(CHECK_KERNELS)) assert.equal(on('guarded', kernel.release)?.result, 'compatible', `guarded on ${kernel.release}`);
  for (const artifact of index.artifacts) for (const c of artifact.coreCheck ?? []) assert.equal(c.coreSha256, artifact.sha256, 'about the published bytes');
}

describe('the offline CO-RE check at publish time (real Debian kernels, slow)', { timeout: 20 * 60 * 1000 }, () => {
  const farm = farmFixture();
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-publish-check-'));
    await cp(FIXTURES, join(work, 'probes/core-check'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), KERNELS);
  });
  after(async () => {
    await farm.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('build --core-check kernels: the published index carries a prediction per CO-RE object and kernel of the set', async () => {
    const store = join(work, 'built');
    const result = await kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--out', store, '--core-check', 'kernels', '--json'], { cwd: work });
    assert.equal(result.exitCode, 0, `an incompatible prediction is reported, not a failed build\n${result.stderr}`);
    const summary = JSON.parse(result.stdout) as { coreCheck: { scope: string; checks: number; compatible: number; incompatible: number; lines: string[] } };
    assert.deepEqual([summary.coreCheck.scope, summary.coreCheck.checks, summary.coreCheck.compatible, summary.coreCheck.incompatible], ['kernels', 6, 5, 1]);
    assert.match(summary.coreCheck.lines[0] ?? '', /^incompatible core\/x86_64\/renamed\.o on debian 6\.12\.117\+deb13-cloud-amd64 x86_64/);
    assertPredictions(ArtifactIndex.parse(JSON.parse(await readFile(join(store, 'index.json'), 'utf8'))));
    assert.match(await readFile(join(store, 'report.html'), 'utf8'), /<table class="coverage" id="coverage">/, 'the report shows the coverage map');

    // A rebuild without the check (same bytes) keeps the predictions in the merged index.
    const again = await kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--out', store, '--json'], { cwd: work });
    assert.equal(again.exitCode, 0, again.stderr);
    assertPredictions(ArtifactIndex.parse(JSON.parse(await readFile(join(store, 'index.json'), 'utf8'))));
  });

  it('submit --core-check kernels: the farm\'s publish step checks before it writes the index', async () => {
    const q = farm.queue('core-check');
    const store = join(work, 'farm');
    await farm.worker(q);
    const result = await kbuild(['submit', '--kernels', join(work, 'kernels.yaml'), '--store', store, '--queue', q, '--redis', REDIS_URL, '--core-check', 'kernels', '--wait'], { cwd: work });
    assert.equal(result.exitCode, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /CO-RE check \(kernels\): 6 checks over 3 kernels: 5 compatible, 1 incompatible, 0 unknown/);
    assertPredictions(ArtifactIndex.parse(JSON.parse(await readFile(join(store, 'index.json'), 'utf8'))));
  });

  it('archive scope: every x86_64 kernel Debian\'s archive lists, through kbuild crawl, the build set\'s own included', async () => {
    const notes: string[] = [];
    const kernels = await kernelsInScope({ scope: 'archive', kernels: Object.values(CHECK_KERNELS) }, ['x86_64'], (l) => notes.push(l));
    assert.deepEqual(notes, []);
    assert.ok(kernels.length > 20, `${kernels.length} kernels`);
    assert.ok(kernels.every((k) => k.arch === 'x86_64' && k.distro === 'debian'));
    for (const own of Object.values(CHECK_KERNELS)) assert.ok(kernels.some((k) => k.release === own.release), own.release);
    assert.equal(new Set(kernels.map((k) => k.release)).size, kernels.length, 'each kernel once');
  });
});
