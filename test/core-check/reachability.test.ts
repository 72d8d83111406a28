import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reachableInstructions } from '../../src/core-check/reachability.js';

/** One BPF instruction, encoded as the kernel's struct bpf_insn (little-endian). */
function insn(op: number, dst: number, src: number, off: number, imm: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint8(0, op);
  v.setUint8(1, (src << 4) | dst);
  v.setInt16(2, off, true);
  v.setInt32(4, imm, true);
  return b;
}
const program = (...insns: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(insns.length * 8);
  insns.forEach((x, i) => out.set(x, i * 8));
  return out;
};
const MOV64_IMM = 0xb7, JEQ_IMM = 0x15, LDX_DW = 0x79, STX_DW = 0x7b, EXIT = 0x95;

/**
 *   0: r1 = <bpf_core_field_exists(...)>   exists relocation: libbpf patches 1 or 0
 *   1: *(u64 *)(r10 - 8) = r1               the answer goes through the stack, as clang -O0-ish code does
 *   2: r3 = *(u64 *)(r10 - 8)
 *   3: if r3 == 0 goto +1                   the guard
 *   4: r2 = *(u64 *)(r6 + 16)               the guarded access (byte_off relocation, poisoned where unresolved)
 *   5: r0 = 0
 *   6: exit
 */
const GUARDED = program(
  insn(MOV64_IMM, 1, 0, 0, 1),
  insn(STX_DW, 10, 1, -8, 0),
  insn(LDX_DW, 3, 10, -8, 0),
  insn(JEQ_IMM, 3, 0, 1, 0),
  insn(LDX_DW, 2, 6, 16, 0),
  insn(MOV64_IMM, 0, 0, 0, 0),
  insn(EXIT, 0, 0, 0, 0),
);
const ACCESS = 4;

describe('reachability of poisoned instructions (hand-written BPF)', () => {
  it('a guarded access is unreachable when the exists check is 0 on this kernel, reachable when it is 1', () => {
    const absent = reachableInstructions(GUARDED, [0], new Map([[0, 0n]]), new Set([ACCESS]));
    assert.ok(!absent.has(ACCESS), 'field absent: the branch skips the access');
    assert.ok(absent.has(5) && absent.has(6));
    const present = reachableInstructions(GUARDED, [0], new Map([[0, 1n]]), new Set([ACCESS]));
    assert.ok(present.has(ACCESS), 'field present: the access runs');
  });

  it('without the exists answer (an unknown guard) both branches count as reachable', () => {
    const unknown = reachableInstructions(GUARDED, [0], new Map(), new Set([0, ACCESS]));
    assert.ok(unknown.has(ACCESS));
  });

  it('an unguarded access is reachable whatever the exists answers', () => {
    const unguarded = program(insn(LDX_DW, 2, 6, 16, 0), insn(MOV64_IMM, 0, 0, 0, 0), insn(EXIT, 0, 0, 0, 0));
    for (const value of [0n, 1n]) assert.ok(reachableInstructions(unguarded, [0], new Map([[1, value]]), new Set([0])).has(0));
  });

  it('a store through another pointer than r10 forgets the stack: the guard becomes unknown, the access reachable', () => {
    const clobbered = program(
      insn(MOV64_IMM, 1, 0, 0, 1),
      insn(STX_DW, 10, 1, -8, 0),
      insn(STX_DW, 7, 1, 0, 0), // *(u64 *)(r7 + 0) = r1: r7 may point into the stack
      insn(LDX_DW, 3, 10, -8, 0),
      insn(JEQ_IMM, 3, 0, 1, 0),
      insn(LDX_DW, 2, 6, 16, 0),
      insn(MOV64_IMM, 0, 0, 0, 0),
      insn(EXIT, 0, 0, 0, 0),
    );
    assert.ok(reachableInstructions(clobbered, [0], new Map([[0, 0n]]), new Set([5])).has(5));
  });
});
