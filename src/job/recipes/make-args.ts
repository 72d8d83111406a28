import { ConfigError } from '../../errors.js';

/**
 * A probe's extra `make` arguments end up in a shell script and on make's
 * command line. Only `NAME=value` assignments are accepted: no options at all
 * (that rules out -C, -f, --eval, -o, -I, -W, ...), no targets, values made
 * of characters that mean nothing to the shell or to make's expansion ($ is
 * refused), and no path that leaves the probe (absolute or "..").
 */

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Letters, digits and `_ . , : + = @ % / -` plus single spaces between words. */
const VALUE = /^[A-Za-z0-9_.,:+=@%/-]*( [A-Za-z0-9_.,:+=@%/-]+)*$/;

/** Set by the recipe itself, or changing where make reads and writes. */
export const RESERVED_MAKE_VARIABLES: ReadonlySet<string> = new Set([
  'ARCH',
  'CROSS_COMPILE',
  'CLANG',
  'LLC',
  'KERNELDIR',
  'M',
  'O',
  'KBUILD_EXTMOD',
  'KBUILD_OUTPUT',
  'KBUILD_SRC',
  'MAKEFILES',
  'MAKEFLAGS',
  'MFLAGS',
  'MAKE',
  'SHELL',
  'srctree',
  'objtree',
  'src',
  'obj',
]);

/** Compiler options whose path follows with no space (-I/x, -isystem/x); stripped before looking at the path. */
const PATH_OPTION = /^-(?:I|L|B|o|isystem|idirafter|iquote|include|imacros|iprefix|iwithprefix|isysroot|MF|MT|MQ|-sysroot)/;

/** A word that names a path outside the probe: absolute (also as -I/x, --sysroot=/x, A=/x) or with a ".." part. */
function escapes(word: string): boolean {
  const segments = word.split(/[=:,]/).map((segment) => segment.replace(PATH_OPTION, ''));
  return segments.some((s) => s.startsWith('/') || s.split('/').includes('..'));
}

/** Returns the arguments unchanged when every one is acceptable; throws a ConfigError naming the first that is not. */
export function checkMakeArgs(args: readonly string[], field = 'makeArgs'): readonly string[] {
  args.forEach((arg, i) => {
    const where = `${field}[${i}] ${JSON.stringify(arg)}`;
    const eq = arg.indexOf('=');
    if (eq <= 0 || arg.startsWith('-')) throw new ConfigError(`${where}: only NAME=value assignments are accepted (no make options or targets)`);
    const name = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    if (!NAME.test(name)) throw new ConfigError(`${where}: ${JSON.stringify(name)} is not a make variable name`);
    if (RESERVED_MAKE_VARIABLES.has(name)) throw new ConfigError(`${where}: ${name} is set by kbuild and cannot be overridden`);
    if (!VALUE.test(value)) {
      throw new ConfigError(`${where}: the value may only hold letters, digits, single spaces and _ . , : + = @ % / - (no quotes, $, ;, |, &, backslashes)`);
    }
    const bad = value.split(' ').find(escapes);
    if (bad !== undefined) throw new ConfigError(`${where}: ${JSON.stringify(bad)} names a path outside the probe`);
  });
  return args;
}
