import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cflagsProblem } from './cflags.js';

describe('cflags allow-list', () => {
  it('accepts the flags real projects pass', () => {
    const ok = ['-Wall', '-Wno-unused-value', '-Werror=return-type', '-fno-stack-protector', '-fno-jump-tables', '-O2', '-g', '-std=gnu11',
      '-mlittle-endian', '-mattr=+alu32', '-DBPF_NO_PRESERVE_ACCESS_INDEX', '-D__USE_VMLINUX__', '-DVERSION="1.2"', '-UDEBUG', '-mllvm', '-bpf-stack-size=1024', '-w'];
    assert.equal(cflagsProblem(ok), undefined);
  });
  const refused: [string[], RegExp][] = [
    [['-o', 'x'], /kbuild decides what clang writes/],
    [['-fplugin=/tmp/x.so'], /plugins/],
    [['-Xclang', '-load'], /plugins/],
    [['@/etc/flags'], /response files/],
    [['-I/etc'], /use `includes`/],
    [['-include', '/etc/passwd'], /use `includes`/],
    [['-isystem/usr/include'], /use `includes`/],
    [['--sysroot=/'], /use `includes`/],
    [['-mcpu=v3'], /use `mcpu/],
    [['-target', 'x86_64'], /sets the target/],
    [['-MD'], /kbuild decides/],
    [['-ffile-prefix-map=/a=/b'], /not allowed/],
    [['-fprofile-generate=/tmp'], /not allowed/],
    [['-Wl,-T,/etc/x'], /pass-through/],
    [['-mllvm'], /must be followed/],
    [['-mllvm', '-load=/tmp/x.so'], /must be followed/],
    [['-DX\nY'], /not allowed/],
  ];
  for (const [flags, why] of refused) {
    it(`refuses ${JSON.stringify(flags)}`, () => assert.match(cflagsProblem(flags) ?? 'accepted', why));
  }
});
