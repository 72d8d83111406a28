/**
 * Slow: `kbuild submit --wait` on a real farm (Redis, one worker process)
 * leaves report.html beside the index it waited for, showing that index.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex } from '../../src/loader/index-schema.js';
import { REPORT_DATA_ID } from '../../src/report/render-report.js';
import { summarizeIndex } from '../../src/report/summary.js';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';
import { farmFixture, REDIS_URL } from '../helpers/farm.js';

const KERNELS = `probes:
  - name: execve
    source: probes/execve/execve.bpf.c
core:
  btfFrom:
    x86_64: { distro: debian, release: 6.1.0-50-cloud-amd64 }
kernels:
  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64 }
`;

describe('submit --wait writes report.html (real farm, slow)', { timeout: 15 * 60 * 1000 }, () => {
  const farm = farmFixture();
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-report-farm-'));
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), KERNELS);
  });
  after(async () => {
    await farm.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('stores the report of the published index next to it', async () => {
    const q = farm.queue('report');
    const store = join(work, 'store');
    await farm.worker(q);
    const result = await kbuild(['submit', '--kernels', join(work, 'kernels.yaml'), '--store', store, '--queue', q, '--redis', REDIS_URL, '--wait', '--json']);
    assert.equal(result.exitCode, 0, result.stderr + result.stdout);
    assert.match(result.stderr, /kbuild: report: .*\/store\/report\.html/);
    const index = ArtifactIndex.parse(JSON.parse(await readFile(join(store, 'index.json'), 'utf8')));
    assert.equal(index.artifacts.length, 2, 'one per-kernel and one CO-RE object');
    const html = await readFile(join(store, 'report.html'), 'utf8');
    const data = new RegExp(`<script type="application/json" id="${REPORT_DATA_ID}">([^<]*)</script>`).exec(html)?.[1];
    assert.ok(data !== undefined, 'the page carries its summary');
    assert.deepEqual((JSON.parse(data) as { summary: unknown }).summary, JSON.parse(JSON.stringify(summarizeIndex(index))));
    assert.match(html, /signature not checked/);
  });
});
