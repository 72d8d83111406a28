import { z } from 'zod';

/**
 * Compiler flags from kernels.yaml reach clang on a build machine, so they
 * are allow-listed: warnings, code generation, language and macro flags.
 * Anything that names a file or a folder (output, plugins, response files,
 * include paths, prefix maps, dependency files) or changes what clang
 * produces is refused with a hint; include folders and the ISA have their
 * own checked fields (`includes`, `mcpu`).
 */

const SAFE_VALUE = '[A-Za-z0-9_.,+:=-]*';
const ALLOWED: readonly RegExp[] = [
  /^-w$/,
  new RegExp(`^-W(?!l,|a,|p,)[A-Za-z0-9_+-]+(=${SAFE_VALUE})?$`),
  new RegExp(`^-f(?!plugin|pass-plugin|profile|crash|modules|.*prefix-map|save-optimization|record-command|proc-stat|time-trace)[a-z0-9-]+(=${SAFE_VALUE})?$`),
  /^-O[0-3sz]?$/,
  /^-g(0|1|2|3|dwarf|dwarf-[45]|btf|line-tables-only|column-info|no-column-info)?$/,
  /^-std=[a-z0-9+]+$/,
  new RegExp(`^-m(?!cpu)[a-z0-9-]+(=${SAFE_VALUE})?$`),
  /^-[DU][A-Za-z_][A-Za-z0-9_]*(=[^\0-\x1f\x7f]{0,256})?$/,
  /^-(nostdinc|ffreestanding|pedantic|ansi)$/,
];
/** `-mllvm <option>`: the option must be a plain LLVM flag. */
const LLVM_OPTION = new RegExp(`^-[a-z0-9][a-z0-9-]*(=${SAFE_VALUE})?$`);

const HINTS: readonly [RegExp, string][] = [
  [/^-(I|iquote|isystem|idirafter|include|imacros|-sysroot|isysroot|B)/, 'use `includes` (folders under the probe root)'],
  [/^-mcpu/, 'use `mcpu: v1..v4`'],
  [/^-(o|c|S|E|emit-|M|save-temps|-output)/, 'kbuild decides what clang writes and where'],
  [/^(@|-Xclang|-Xlinker|-Wl,|-Wa,|-Wp,|-fplugin|-fpass-plugin|-load)/, 'plugins, response files and pass-through options are not allowed'],
  [/^-target|^--target/, 'kbuild sets the target for each build kind'],
];

/** Why a flag list is refused, or undefined. */
export function cflagsProblem(flags: readonly string[]): string | undefined {
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i] ?? '';
    if (flag === '-mllvm') {
      const option = flags[i + 1];
      if (option === undefined || !LLVM_OPTION.test(option)) return `"-mllvm" must be followed by an LLVM option such as -bpf-stack-size=1024, got ${JSON.stringify(option ?? '')}`;
      i++;
      continue;
    }
    if (ALLOWED.some((re) => re.test(flag))) continue;
    const hint = HINTS.find(([re]) => re.test(flag))?.[1];
    return `flag ${JSON.stringify(flag)} is not allowed${hint === undefined ? ' (allowed: -W..., -f..., -O, -g, -std=, -m..., -D, -U, -mllvm <option>)' : `: ${hint}`}`;
  }
  return undefined;
}

export const CFlags = z
  .array(z.string().max(512))
  .max(128)
  .superRefine((flags, ctx) => {
    const problem = cflagsProblem(flags);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
