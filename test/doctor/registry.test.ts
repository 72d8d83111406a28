import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CHECKS } from '../../src/doctor/registry.js';
import { runChecks } from '../../src/doctor/run-checks.js';
import { compareVersions, parseVersion } from '../../src/doctor/tool-version.js';
import type { DoctorCheck } from '../../src/doctor/types.js';
import { REPO_ROOT } from '../helpers/cli.js';

const base = { purposes: new Set(['build'] as const), s3: {}, dockerConfigured: false, env: process.env };

describe('doctor registry and runner', () => {
  it('registers every module under src/doctor/checks, each id once', async () => {
    const files = (await readdir(join(REPO_ROOT, 'src/doctor/checks'))).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));
    const registry = await readFile(join(REPO_ROOT, 'src/doctor/registry.ts'), 'utf8');
    for (const file of files) assert.match(registry, new RegExp(`from './checks/${file}\\.js'`), `${file}.ts is registered`);
    const ids = CHECKS.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, `duplicate ids in ${ids.join(', ')}`);
    assert.ok(files.length >= 14);
  });

  it('gives each check its own deadline, aborts it, and maps problems by requiredness', async () => {
    let aborted = false;
    const hang = (id: string, required: boolean): DoctorCheck => ({
      id,
      title: id,
      required: () => required,
      run: (c) =>
        new Promise(() => {
          c.signal.addEventListener('abort', () => (aborted = true));
        }),
    });
    const throws: DoctorCheck = { id: 'throws', title: 'throws', required: () => false, run: () => Promise.reject(new Error('boom')) };
    const started = Date.now();
    const results = await runChecks([hang('a', true), hang('b', false), throws], base, 300);
    assert.ok(Date.now() - started < 5000, 'hung checks run side by side, not one after the other');
    assert.equal(aborted, true);
    assert.deepEqual(results.map((r) => [r.id, r.status]), [['a', 'missing'], ['b', 'warn'], ['throws', 'warn']]);
    assert.match(results[0]!.detail, /no answer within/);
    assert.match(results[2]!.detail, /boom/);
  });

  it('reads and orders tool versions', () => {
    assert.equal(parseVersion('Debian clang version 14.0.6\nTarget: x86_64', /clang version/), '14.0.6');
    assert.equal(parseVersion('v1.24\n', /^/), '1.24');
    assert.equal(parseVersion('bpftool v7.1.0\nusing libbpf v1.1', /bpftool/), '7.1.0');
    assert.ok(compareVersions('13.0.1', '13.0.0') > 0);
    assert.ok(compareVersions('14', '13.0.1') > 0);
    assert.ok(compareVersions('1.21', '1.22') < 0);
    assert.equal(compareVersions('6.2', '6.2.0'), 0);
  });
});
