import { isAbsolute, normalize, posix } from 'node:path';
import { KbuildError } from '../errors.js';
import type { BuildStep } from './types.js';

/**
 * How a build step's host folders appear inside the container. Each folder
 * gets a fixed path by role (/kbuild/out for the writable folder,
 * /kbuild/in/<n> for the read-only ones, in the step's order), and every
 * argument naming a host folder is rewritten to it. Folders under /usr are the
 * toolchain's own (clang's headers, libbpf's): the image provides its own
 * copies, which is the point of a pinned builder image, so they are not mounted.
 */

export const CONTAINER_ROOT = '/kbuild';
const OUT = `${CONTAINER_ROOT}/out`;
const IN = `${CONTAINER_ROOT}/in`;

export interface Mount {
  readonly host: string;
  readonly container: string;
  readonly readOnly: boolean;
}

export interface ContainerStep {
  readonly argv: string[];
  readonly cwd: string;
  readonly mounts: readonly Mount[];
}

export function isToolchainPath(path: string): boolean {
  return path === '/usr' || path.startsWith('/usr/');
}

export function mapStep(step: BuildStep): ContainerStep {
  const mounts: Mount[] = [{ host: checked(step.writable), container: OUT, readOnly: false }];
  step.readOnly.forEach((dir, i) => {
    const host = checked(dir);
    if (isToolchainPath(host) || mounts.some((m) => m.host === host)) return;
    mounts.push({ host, container: `${IN}/${i}`, readOnly: true });
  });
  // Longest host path first, so a folder inside another maps to its own mount.
  const byLength = [...mounts].sort((a, b) => b.host.length - a.host.length);
  const rewrite = (arg: string): string => rewriteArg(arg, byLength);
  const cwd = rewrite(checked(step.cwd));
  if (!cwd.startsWith(`${CONTAINER_ROOT}/`) && !isToolchainPath(cwd)) {
    throw new KbuildError('E_EXECUTOR', `build step runs in ${step.cwd}, which is not one of its folders`);
  }
  return { argv: step.argv.map(rewrite), cwd, mounts };
}

/** Replaces every occurrence of a mounted host folder that ends at a path boundary. */
function rewriteArg(arg: string, mounts: readonly Mount[]): string {
  let out = '';
  let i = 0;
  outer: while (i < arg.length) {
    for (const m of mounts) {
      if (arg.startsWith(m.host, i) && atBoundary(arg, i, m.host.length)) {
        out += m.container;
        i += m.host.length;
        continue outer;
      }
    }
    out += arg[i];
    i += 1;
  }
  return out;
}

/** A host path starts an argument or follows "=", and ends the argument or continues with "/", "=" or ":". */
function atBoundary(arg: string, start: number, length: number): boolean {
  const before = start === 0 ? '' : arg[start - 1];
  const after = arg[start + length];
  const startOk = before === '' || before === '=' || before === ':' || (before === 'I' && start === 2 && arg.startsWith('-I'));
  return startOk && (after === undefined || after === '/' || after === '=' || after === ':');
}

function checked(dir: string): string {
  if (!isAbsolute(dir)) throw new KbuildError('E_EXECUTOR', `build folder ${JSON.stringify(dir)} is not an absolute path`);
  const clean = normalize(dir).replace(/\/+$/, '');
  // Commas and colons would change the meaning of a bind specification.
  if (/[,:\n\0]/.test(clean)) throw new KbuildError('E_EXECUTOR', `build folder ${JSON.stringify(dir)} cannot be mounted`);
  return clean === '' ? posix.sep : clean;
}
