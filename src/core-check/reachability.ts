/**
 * Which instructions of a BPF section can run, given the values CO-RE
 * patches into the exists-kind relocations on one kernel. libbpf never fails
 * on an unresolved relocation: it replaces the instruction with a call to an
 * invalid helper, and the kernel's verifier rejects the program only when
 * that call is reachable. The verifier prunes branches on known constants;
 * this pass does the same, with less precision: registers and 8-byte stack
 * slots are either a known 64-bit constant or unknown, helper calls forget
 * r0-r5 and the whole stack, a store through any pointer but r10 forgets the
 * stack, loads from memory are unknown. Every function start is an entry with
 * unknown registers (no constants flow from caller to callee). Less precise
 * means "reachable" more often, never less: a guarded access is sometimes
 * reported as reachable, an unguarded one is never reported as guarded.
 */

type Value = bigint | undefined;
interface State { regs: Value[]; stack: Map<number, bigint> }

const MASK64 = (1n << 64n) - 1n;
const MASK32 = (1n << 32n) - 1n;

/** `constants`: instruction index → the 64-bit value CO-RE patches into it (exists kinds). `opaque`: other relocated instructions, whose immediate is not the one in the file. */
export function reachableInstructions(insns: Uint8Array, entries: readonly number[], constants: ReadonlyMap<number, bigint>, opaque: ReadonlySet<number>): Set<number> {
  const count = Math.floor(insns.length / 8);
  const view = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const states = new Map<number, State>();
  const work: number[] = [];
  const enter = (pc: number, state: State): void => {
    if (pc < 0 || pc >= count) return;
    const old = states.get(pc);
    const merged = old === undefined ? state : join(old, state);
    if (old !== undefined && same(old, merged)) return;
    states.set(pc, merged);
    work.push(pc);
  };
  for (const entry of entries) enter(entry, { regs: Array<Value>(11).fill(undefined), stack: new Map() });
  while (work.length > 0) {
    const pc = work.pop() as number;
    const state = states.get(pc) as State;
    const at = pc * 8;
    const op = view.getUint8(at);
    const dst = view.getUint8(at + 1) & 0xf;
    const src = view.getUint8(at + 1) >> 4;
    const off = view.getInt16(at + 2, true);
    const imm = BigInt(view.getInt32(at + 4, true));
    const cls = op & 7;
    const next: State = { regs: [...state.regs], stack: new Map(state.stack) };
    if (op === 0x18) { // ld_imm64: two slots
      const wide = at + 12 < insns.length ? (BigInt(view.getUint32(at + 12, true)) << 32n) | BigInt(view.getUint32(at + 4, true)) : undefined;
      next.regs[dst] = constants.get(pc) ?? (src === 0 && !opaque.has(pc) ? wide : undefined);
      enter(pc + 2, next);
      continue;
    }
    if (cls === 4 || cls === 7) {
      const operand = (op & 8) !== 0 ? state.regs[src] : constants.get(pc) ?? (opaque.has(pc) ? undefined : imm & MASK64);
      next.regs[dst] = alu(op & 0xf0, state.regs[dst], operand, cls === 4);
      enter(pc + 1, next);
      continue;
    }
    if (cls === 1) { // ldx
      next.regs[dst] = src === 10 && (op & 0xf8) === 0x78 ? state.stack.get(off) : undefined; // ldx DW, mode MEM
      enter(pc + 1, next);
      continue;
    }
    if (cls === 2 || cls === 3) { // st, stx (atomics included)
      if (dst !== 10) next.stack.clear();
      else {
        for (const slot of [...next.stack.keys()]) if (slot > off - 8 && slot < off + 8) next.stack.delete(slot);
        const value = cls === 2 ? imm & MASK64 : state.regs[src];
        if ((op & 0xf8) === 0x78 && value !== undefined) next.stack.set(off, value); // stx/st, mode MEM, size DW
        if ((op & 0xe0) === 0xc0 && cls === 3) next.regs[src] = undefined; // atomic fetch variants write src back
      }
      enter(pc + 1, next);
      continue;
    }
    if (cls === 5 || cls === 6) {
      const code = op & 0xf0;
      if (code === 0x90) continue; // exit
      if (code === 0x80) { // call: helper, subprogram or kfunc
        for (let r = 0; r <= 5; r += 1) next.regs[r] = undefined;
        next.stack.clear();
        if (src === 1) enter(pc + Number(imm) + 1, { regs: Array<Value>(11).fill(undefined), stack: new Map() });
        enter(pc + 1, next);
        continue;
      }
      if (code === 0x00) { enter(pc + 1 + (cls === 6 ? Number(imm) : off), next); continue; } // ja / gotol
      const right = (op & 8) !== 0 ? state.regs[src] : imm & MASK64;
      const taken = compare(code, state.regs[dst], right, cls === 6);
      if (taken !== false) enter(pc + 1 + off, next);
      if (taken !== true) enter(pc + 1, next);
      continue;
    }
    enter(pc + 1, next); // ld (legacy packet access)
  }
  return new Set(states.keys());
}

function alu(code: number, left: Value, right: Value, narrow: boolean): Value {
  if (code === 0xb0) return right === undefined ? undefined : narrow ? right & MASK32 : right;
  if (left === undefined || right === undefined) return undefined;
  let out: bigint;
  switch (code) {
    case 0x00: out = left + right; break;
    case 0x10: out = left - right; break;
    case 0x20: out = left * right; break;
    case 0x40: out = left | right; break;
    case 0x50: out = left & right; break;
    case 0xa0: out = left ^ right; break;
    case 0x60: out = left << (right & (narrow ? 31n : 63n)); break;
    case 0x70: out = (narrow ? left & MASK32 : left) >> (right & (narrow ? 31n : 63n)); break;
    default: return undefined;
  }
  return out & (narrow ? MASK32 : MASK64);
}

/** true/false when the branch is decided, undefined when both ways are possible. */
function compare(code: number, left: Value, right: Value, narrow: boolean): boolean | undefined {
  if (left === undefined || right === undefined) return undefined;
  const mask = narrow ? MASK32 : MASK64;
  const bits = narrow ? 32 : 64;
  const [a, b] = [left & mask, right & mask];
  const [sa, sb] = [BigInt.asIntN(bits, a), BigInt.asIntN(bits, b)];
  switch (code) {
    case 0x10: return a === b;
    case 0x50: return a !== b;
    case 0x20: return a > b;
    case 0x30: return a >= b;
    case 0xa0: return a < b;
    case 0xb0: return a <= b;
    case 0x40: return (a & b) !== 0n;
    case 0x60: return sa > sb;
    case 0x70: return sa >= sb;
    case 0xc0: return sa < sb;
    case 0xd0: return sa <= sb;
    default: return undefined;
  }
}

function join(a: State, b: State): State {
  const stack = new Map<number, bigint>();
  for (const [slot, value] of a.stack) if (b.stack.get(slot) === value) stack.set(slot, value);
  return { regs: a.regs.map((v, i) => (v === b.regs[i] ? v : undefined)), stack };
}

function same(a: State, b: State): boolean {
  return a.regs.every((v, i) => v === b.regs[i]) && a.stack.size === b.stack.size && [...a.stack].every(([k, v]) => b.stack.get(k) === v);
}
