import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareRelocations, parseRelocationLog } from './core-relocations.js';

/** libbpf's debug lines as `bpftool -d gen min_core_btf` prints them (bpftool 7.1 / libbpf 1.1). */
const FULL = `libbpf: CO-RE relocating [34] struct task_struct: found target candidate [114] struct task_struct in [vmlinux]
libbpf: prog 'tp/x': relo #0: <byte_off> [34] struct task_struct.fs (0:113 @ offset 1976)
libbpf: prog 'tp/x': relo #0: matching candidate #0 <byte_off> [114] struct task_struct.fs (0:131 @ offset 1816)
libbpf: prog 'tp/x': relo #1: <byte_off> [337] struct fs_struct.pwd.dentry (0:6:1 @ offset 48)
libbpf: prog 'tp/x': relo #1: matching candidate #0 <byte_off> [2901] struct fs_struct.pwd.dentry (0:5:1 @ offset 48)
`;
/** The same relocations against a minimized BTF: other type ids and member indexes, same names and offsets. */
const MINIMIZED = FULL.replace(/\[114\]/g, '[4]').replace('(0:131 @', '(0:0 @').replace('[2901]', '[18]').replace('(0:5:1 @', '(0:0:1 @');

describe('CO-RE relocations from libbpf debug output', () => {
  it('parses each relocation with its matching candidates, without type ids or member indexes', () => {
    assert.deepEqual(parseRelocationLog(FULL), [
      { id: 'tp/x#0', local: '<byte_off> struct task_struct.fs (@ offset 1976)', matches: ['<byte_off> struct task_struct.fs (@ offset 1816)'] },
      { id: 'tp/x#1', local: '<byte_off> struct fs_struct.pwd.dentry (@ offset 48)', matches: ['<byte_off> struct fs_struct.pwd.dentry (@ offset 48)'] },
    ]);
  });

  it('finds the same relocations against full and minimized BTF', () => {
    assert.deepEqual(compareRelocations(parseRelocationLog(FULL), parseRelocationLog(MINIMIZED)), { result: 'ok', relocations: 2 });
  });

  it('reports an offset that differs, a relocation that no longer matches, and an empty log', () => {
    const moved = parseRelocationLog(MINIMIZED.replace('@ offset 1816', '@ offset 1824'));
    const moveCheck = compareRelocations(parseRelocationLog(FULL), moved);
    assert.equal(moveCheck.result, 'failed');
    assert.match(moveCheck.detail ?? '', /tp\/x#0: .*offset 1816\) vs .*offset 1824\)/);
    const lost = parseRelocationLog(MINIMIZED.split('\n').filter((l) => !l.includes('relo #1: matching')).join('\n'));
    assert.match(compareRelocations(parseRelocationLog(FULL), lost).detail ?? '', /tp\/x#1: .* vs no match/);
    assert.equal(compareRelocations([], []).result, 'failed');
  });
});
