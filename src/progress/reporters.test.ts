import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { ExternalBtfRecord } from '../btf/btf-record.js';
import type { BuildJob } from '../job/types.js';
import type { JobResult } from '../runner/run-jobs.js';
import { LineReporter } from './reporters.js';

const kernel = (release: string) => ({ distro: 'debian', release, arch: 'x86_64' as const });
const probe = { name: 'tuner' };
const btfJob = (release: string) => ({ kind: 'btf', probe, kernel: kernel(release) }) as unknown as BuildJob;
const objectJob = (release: string) => ({ kind: 'non-core', probe, kernel: kernel(release) }) as unknown as BuildJob;
/** An external-BTF record without `externalBtf`: the kernel has its own BTF. */
const notNeeded = { buildId: 'x' } as unknown as ExternalBtfRecord;
const made = { buildId: 'y', externalBtf: { path: 'btf/x.btf' } } as unknown as ExternalBtfRecord;

describe('line reporter', () => {
  it('says external-BTF jobs of kernels with BTF once at the end, not a line each; every other job keeps its line', () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const reporter = new LineReporter(out);
    const results: JobResult[] = [
      { job: objectJob('6.1.0-50-amd64'), status: 'built', downloaded: true, durationMs: 1200 },
      { job: btfJob('6.1.0-50-amd64'), status: 'built', externalBtf: notNeeded, downloaded: false, durationMs: 100 },
      { job: btfJob('6.12.117+deb13-amd64'), status: 'skipped', externalBtf: notNeeded, downloaded: false, durationMs: 10 },
      { job: btfJob('5.10.0-32-amd64'), status: 'built', externalBtf: made, downloaded: true, durationMs: 9000 },
    ];
    reporter.start(results.length);
    for (const r of results) reporter.done(r);
    reporter.finish();
    const lines = Buffer.concat(chunks).toString('utf8').trimEnd().split('\n');
    assert.deepEqual(lines, [
      'kbuild: 4 jobs',
      '[1/4] built   tuner debian 6.1.0-50-amd64 x86_64 (1.2s)',
      '[4/4] built   tuner external BTF debian 5.10.0-32-amd64 x86_64 (9.0s)',
      'kbuild: 2 external-BTF jobs had nothing to do: their kernels have BTF',
    ]);
  });
});
