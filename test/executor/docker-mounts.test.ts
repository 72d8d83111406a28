import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KbuildError } from '../../src/errors.js';
import { mapStep } from '../../src/executor/docker-mounts.js';

describe('docker mounts: host folders → fixed container paths', () => {
  const step = {
    argv: [
      'clang', '-I/cache/trees/a/usr/src/flavour/include', '-isystem', '/usr/lib/llvm-14/lib/clang/14.0.6/include',
      '-ffile-prefix-map=/tmp/job-1/probe=/kbuild/probe', '-ffile-prefix-map=/tmp/job-1/work=/kbuild/work',
      '-idirafter', '/tmp/job-1/work/libbpf', 'x.c', '-o', '/tmp/job-1/work/stage1.ll', '/tmp/job-1/workshop',
    ],
    cwd: '/tmp/job-1/probe',
    readOnly: ['/tmp/job-1/probe', '/cache/trees/a/usr/src/flavour', '/usr/include/bpf'],
    writable: '/tmp/job-1/work',
  };

  it('mounts the writable folder and the inputs, not the toolchain, and rewrites every argument', () => {
    const mapped = mapStep(step);
    assert.deepEqual(mapped.mounts, [
      { host: '/tmp/job-1/work', container: '/kbuild/out', readOnly: false },
      { host: '/tmp/job-1/probe', container: '/kbuild/in/0', readOnly: true },
      { host: '/cache/trees/a/usr/src/flavour', container: '/kbuild/in/1', readOnly: true },
    ]);
    assert.equal(mapped.cwd, '/kbuild/in/0');
    assert.deepEqual(mapped.argv, [
      'clang', '-I/kbuild/in/1/include', '-isystem', '/usr/lib/llvm-14/lib/clang/14.0.6/include',
      '-ffile-prefix-map=/kbuild/in/0=/kbuild/probe', '-ffile-prefix-map=/kbuild/out=/kbuild/work',
      '-idirafter', '/kbuild/out/libbpf', 'x.c', '-o', '/kbuild/out/stage1.ll',
      // A longer name that merely starts like a mounted folder is not that folder.
      '/tmp/job-1/workshop',
    ]);
  });

  it('gives the same container command for the same step in another scratch folder', () => {
    const other = JSON.parse(JSON.stringify(step).replaceAll('/tmp/job-1', '/tmp/job-2')) as typeof step;
    assert.deepEqual(mapStep(other).argv.slice(0, -1), mapStep(step).argv.slice(0, -1));
    assert.equal(mapStep(other).cwd, mapStep(step).cwd);
  });

  it('refuses relative, comma or colon folders and a cwd outside the mounts', () => {
    assert.throws(() => mapStep({ ...step, writable: 'work' }), KbuildError);
    assert.throws(() => mapStep({ ...step, readOnly: ['/tmp/a,b'] }), /cannot be mounted/);
    assert.throws(() => mapStep({ ...step, readOnly: ['/tmp/a:/etc'] }), /cannot be mounted/);
    assert.throws(() => mapStep({ ...step, cwd: '/etc' }), /not one of its folders/);
  });
});
