import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../errors.js';
import { renderKbuildScript } from './kernel-kbuild.js';
import { checkMakeArgs } from './make-args.js';

describe('make arguments of the kernel Kbuild recipe', () => {
  it('accepts plain NAME=value assignments, with words and relative paths', () => {
    const ok = ['DEBUG=-DBPF_DEBUG', 'KBUILD_EXTRA_CPPFLAGS=-DA=1 -DB -Iinclude/x', 'V=1', 'EMPTY=', 'W=include:other,more'];
    assert.deepEqual(checkMakeArgs(ok), ok);
  });

  const hostile: [string, RegExp][] = [
    ['-C/etc', /only NAME=value/],
    ['-f', /only NAME=value/],
    ['--eval=$(shell id)', /only NAME=value/],
    ['-o', /only NAME=value/],
    ['all', /only NAME=value/],
    ['=x', /only NAME=value/],
    ['X=$(shell id)', /the value may only hold/],
    ['X=`id`', /the value may only hold/],
    ["X=a'b", /the value may only hold/],
    ['X=a;id', /the value may only hold/],
    ['X=a|id', /the value may only hold/],
    ['X=a&&id', /the value may only hold/],
    ['X=a\nid', /the value may only hold/],
    ['X=a\\b', /the value may only hold/],
    ['X=a  b', /the value may only hold/],
    ['X=-I/etc', /outside the probe/],
    ['X=-include /etc/passwd', /outside the probe/],
    ['X=--sysroot=/', /outside the probe/],
    ['X=-I../..', /outside the probe/],
    ['X=A=/abs', /outside the probe/],
    ['X=inc/../../up', /outside the probe/],
    ['M=/tmp/elsewhere', /set by kbuild/],
    ['ARCH=x86', /set by kbuild/],
    ['CROSS_COMPILE=evil-', /set by kbuild/],
    ['CLANG=sh', /set by kbuild/],
    ['SHELL=/bin/evil', /set by kbuild/],
    ['MAKEFLAGS=-f', /set by kbuild/],
    ['O=out', /set by kbuild/],
    ['1X=y', /not a make variable name/],
    ['A-B=y', /not a make variable name/],
  ];
  for (const [arg, message] of hostile) {
    it(`refuses ${JSON.stringify(arg)}`, () => {
      assert.throws(() => checkMakeArgs([arg]), (err: unknown) => err instanceof ConfigError && message.test(err.message));
    });
  }

  it('refuses hostile arguments before rendering any script', async () => {
    await assert.rejects(renderKbuildScript('x86_64', ['X=$(shell id)']), ConfigError);
  });

  it('renders a native x86_64 and a cross arm64 invocation', async () => {
    const x86 = await renderKbuildScript('x86_64', ['V=1'], 'x86_64');
    assert.match(x86, /ARCH=x86 \\\n  CLANG='clang --target=x86_64-linux-gnu' LLC='llc' \\\n  'V=1'/);
    assert.doesNotMatch(x86, /CROSS_COMPILE=/);
    const arm64 = await renderKbuildScript('arm64', [], 'x86_64');
    assert.match(arm64, /ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \\\n  CLANG='clang --target=aarch64-linux-gnu'/);
  });
});
