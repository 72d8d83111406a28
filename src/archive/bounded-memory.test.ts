import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { debianBuilder } from '../../builders/debian/index.js';
import { blobPath } from '../cache/content-cache.js';
import { cacheRoot } from '../cache/cache-dir.js';
import { run } from '../exec/exec.js';
import type { KernelIdentity } from '../kernel/identity.js';
import { dataMember } from './deb-stream.js';

/**
 * Slow: a real Debian kernel image (linux-image-6.1.0-50-amd64-unsigned, a
 * 67 MB .deb whose data.tar is ~400 MB: vmlinuz first, then 4.9k modules),
 * fetched from the mirror of the host's apt sources into the real cache root.
 * Its extraction runs in a child process under a small V8 heap and its peak
 * RSS is measured: streaming keeps it at the process's baseline plus a
 * constant (EXTRACTION_BOUND), whatever the package's size; a reader that
 * held data.tar in memory would peak above 400 MB.
 */

const KERNEL: KernelIdentity = { distro: 'debian', release: '6.1.0-50-amd64', arch: 'x86_64' };
/** What an extraction may add to the process's RSS (parser and pipe buffers, 16 small files in flight). */
const EXTRACTION_BOUND = 64 * 1024 * 1024;
const CHILD = fileURLToPath(new URL('../../test/helpers/extract-deb-child.ts', import.meta.url));

interface ChildReport {
  readonly baselineRss: number;
  readonly maxRss: number;
  readonly ms: number;
  readonly files: number;
}

async function extractInChild(deb: string, what: string, dest: string, mode: 'member' | 'prefix'): Promise<ChildReport> {
  const { stdout } = await run(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', CHILD, deb, what, dest, mode], { timeoutMs: 10 * 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as ChildReport;
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const describeReport = (r: ChildReport): string =>
  `${r.files} file(s) in ${(r.ms / 1000).toFixed(1)} s, peak RSS ${mib(r.maxRss)} (baseline ${mib(r.baselineRss)}, +${mib(r.maxRss - r.baselineRss)})`;

describe('extracting a real kernel image in bounded memory (slow: network, ~400 MB written)', { timeout: 15 * 60_000 }, () => {
  let work = '';
  let deb = '';
  let dataTarBytes = 0;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-bounded-'));
    const image = await debianBuilder.fetchImage(KERNEL, { cacheDir: cacheRoot() });
    deb = blobPath(cacheRoot(), image.package.sha256);
    const data = await dataMember(deb);
    assert.equal(data.name, 'data.tar.xz');
    const { stdout } = await run('sh', ['-c', `tail -c +${data.offset + 1} "$0" | head -c ${data.size} | xz -dc | wc -c`, deb]);
    dataTarBytes = Number(stdout.trim());
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('its data.tar is far bigger than the bound', () => {
    assert.ok(dataTarBytes > 4 * EXTRACTION_BOUND, `data.tar is ${dataTarBytes} bytes`);
  });

  it('copies the vmlinuz out without decompressing the rest, in bounded memory', async (t) => {
    const dest = join(work, 'vmlinuz');
    const report = await extractInChild(deb, `boot/vmlinuz-${KERNEL.release}`, dest, 'member');
    t.diagnostic(describeReport(report));
    assert.ok((await stat(dest)).size > 4 * 1024 * 1024);
    assert.ok(report.maxRss - report.baselineRss < EXTRACTION_BOUND, `peak ${report.maxRss} over a baseline of ${report.baselineRss}`);
  });

  it('extracts every module (the whole data.tar streamed through) in bounded memory', async (t) => {
    const dest = join(work, 'tree');
    const report = await extractInChild(deb, 'lib/modules/', dest, 'prefix');
    t.diagnostic(`${describeReport(report)}; data.tar ${mib(dataTarBytes)}`);
    assert.ok(report.files > 4000, `${report.files} files`);
    await stat(join(dest, `lib/modules/${KERNEL.release}/modules.order`));
    assert.ok(report.maxRss - report.baselineRss < EXTRACTION_BOUND, `peak ${report.maxRss} over a baseline of ${report.baselineRss} (data.tar: ${dataTarBytes})`);
    assert.ok(report.maxRss < dataTarBytes / 2, `peak RSS ${report.maxRss} vs data.tar ${dataTarBytes}`);
  });
});
