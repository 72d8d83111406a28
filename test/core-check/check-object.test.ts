import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkCoreObject, loadCoreObject, type CoreCheckResult } from '../../src/core-check/check-object.js';
import { CHECK_KERNELS, compileFixture, kernelBtfFile, OBJECTS, type CheckObjectName } from './fixtures.js';

type Release = keyof typeof CHECK_KERNELS;

// Real Debian kernel BTFs (from their images) and objects compiled by clang here; libbpf (bpftool) resolves.
describe('offline CO-RE check against real Debian kernels', { timeout: 10 * 60 * 1000 }, () => {
  let dir: string;
  const results = new Map<string, CoreCheckResult>();
  const result = (object: CheckObjectName, kernel: Release): CoreCheckResult => {
    const got = results.get(`${object} ${kernel}`);
    assert.ok(got !== undefined);
    return got;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kbuild-core-check-test-'));
    const btfs = Object.fromEntries(await Promise.all(Object.entries(CHECK_KERNELS).map(async ([k, kernel]) => [k, await kernelBtfFile(kernel)] as const)));
    for (const name of OBJECTS) {
      const object = await loadCoreObject(await compileFixture(name, dir));
      for (const [k, btf] of Object.entries(btfs)) results.set(`${name} ${k}`, await checkCoreObject(object, btf));
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a field renamed between 6.1 and 6.12 (module.core_layout): compatible on 6.1, incompatible on 6.12, naming the relocation', () => {
    assert.equal(result('renamed', 'bookworm').result, 'compatible', result('renamed', 'bookworm').detail);
    const on612 = result('renamed', 'trixie');
    assert.equal(on612.result, 'incompatible');
    assert.deepEqual(on612.unresolved.map((u) => [u.kind, u.type, u.field, u.guarded]), [['byte_off', 'struct module', 'core_layout.base', false]]);
    assert.match(on612.unresolved[0]?.relocation ?? '', /^tracepoint\/syscalls\/sys_enter_execve#0$/);
    assert.match(on612.detail, /struct module\.core_layout\.base/);
  });

  it('the same read behind bpf_core_field_exists is compatible on both; on 6.12 it is unresolved but unreachable', () => {
    assert.equal(result('guarded', 'bookworm').result, 'compatible');
    assert.equal(result('guarded', 'bookworm').unresolved.length, 0);
    const on612 = result('guarded', 'trixie');
    assert.equal(on612.result, 'compatible', on612.detail);
    assert.deepEqual(on612.unresolved.map((u) => [u.field, u.guarded]), [['core_layout.base', true]]);
  });

  it('a flavour struct (task_struct___old.state) resolves on 5.10, which has state, and not on 6.1 (__state)', () => {
    assert.equal(result('flavour', 'bullseye').result, 'compatible', result('flavour', 'bullseye').detail);
    assert.equal(result('flavour', 'bookworm').result, 'incompatible');
    assert.deepEqual(result('flavour', 'bookworm').unresolved.map((u) => [u.type, u.field]), [['struct task_struct___old', 'state']]);
  });

  it('old and new names behind an exists check: compatible on 5.10, 6.1 and 6.12, with the branch not taken unresolved on each', () => {
    for (const kernel of ['bullseye', 'bookworm', 'trixie'] as const) {
      const r = result('flavour-guarded', kernel);
      assert.equal(r.result, 'compatible', `${kernel}: ${r.detail}`);
      assert.equal(r.unresolved.length, 1, kernel);
      assert.equal(r.unresolved[0]?.guarded, true, kernel);
    }
    // 5.10 lacks the new name, 6.1 and 6.12 the old one: the guard works in both directions.
    assert.equal(result('flavour-guarded', 'bullseye').unresolved[0]?.field, '__state');
    assert.equal(result('flavour-guarded', 'trixie').unresolved[0]?.field, 'state');
  });
});
