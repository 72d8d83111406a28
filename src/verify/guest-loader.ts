import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureEntry } from '../cache/content-cache.js';
import { KbuildError } from '../errors.js';
import { ExecError, run } from '../exec/exec.js';
import type { Arch } from '../kernel/identity.js';
import { arm64Sysroot, type SysrootOptions } from './arm64-sysroot.js';
import { legacySysroot } from './legacy-sysroot.js';

/**
 * The guest loader (images/guest/kbuild-guest.c and the files it includes), built statically against
 * libbpf for each arch and cached by content: the source, the compiler's
 * version and the exact libraries linked in. x86_64 links the host's
 * Debian packages; arm64 is cross-compiled against a sysroot made from
 * Debian's arm64 packages (src/verify/arm64-sysroot.ts).
 */

// From dist/src/verify/ (built) and from src/verify/ (run with tsx).
const SOURCE_DIRS = ['../../../images/guest/', '../../images/guest/'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
const MAIN_SOURCE = 'kbuild-guest.c';
/** Files kbuild-guest.c includes: part of the loader's identity, compiled with it. */
const INCLUDED_SOURCES = ['gobpf-loader.c'];

async function guestSource(): Promise<{ path: string; bytes: Buffer }> {
  for (const dir of SOURCE_DIRS) {
    const bytes = await readFile(join(dir, MAIN_SOURCE)).catch(() => undefined);
    if (bytes === undefined) continue;
    const included = await Promise.all(INCLUDED_SOURCES.map((name) => readFile(join(dir, name))));
    return { path: join(dir, MAIN_SOURCE), bytes: Buffer.concat([bytes, ...included]) };
  }
  throw new KbuildError('E_GUEST_BUILD', 'images/guest/kbuild-guest.c is missing from this installation');
}
const LIBRARIES = ['libbpf.a', 'libelf.a', 'libz.a', 'libzstd.a'] as const;
const LINK = ['-lbpf', '-lelf', '-lz', '-lzstd'] as const;
/** bullseye's libbpf 0.3 and libelf need no zstd. */
const LEGACY_LINK = ['-lbpf', '-lelf', '-lz'] as const;
const LOADER = 'init';

/** `libbpf1`: the loader every case uses; `legacy`: built against a pre-1.0 libbpf for `SEC("maps")` objects. */
export type GuestVariant = 'libbpf1' | 'legacy';

export interface GuestLoader {
  readonly arch: Arch;
  readonly variant: GuestVariant;
  readonly path: string;
  /** sha256 of the binary: part of every verifyId. */
  readonly sha256: string;
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

async function compile(compiler: string, args: readonly string[]): Promise<void> {
  try {
    await run(compiler, args, { timeoutMs: 120_000 });
  } catch (err) {
    if (err instanceof ExecError) {
      throw new KbuildError('E_GUEST_BUILD', `building the guest loader failed: ${err.stderr.trim() || err.message}`, {
        cause: err,
        suggestions: ['Run scripts/setup.sh (it installs libbpf-dev, libelf-dev, zlib1g-dev, libzstd-dev and the arm64 cross compiler)'],
      });
    }
    throw err;
  }
}

interface Toolchain {
  readonly compiler: string;
  /** Extra flags: the sysroot's include and library folders. */
  readonly flags: readonly string[];
  /** What makes the build differ: compiler version, library bytes or package hashes. */
  readonly identity: readonly string[];
}

async function hostToolchain(): Promise<Toolchain> {
  const compiler = 'gcc';
  const version = (await run(compiler, ['--version'])).stdout.split('\n')[0] ?? '';
  const identity = [version];
  for (const lib of LIBRARIES) {
    const path = (await run(compiler, [`-print-file-name=${lib}`])).stdout.trim();
    const bytes = await readFile(path).catch(() => {
      throw new KbuildError('E_GUEST_BUILD', `${lib} is missing (gcc looked for it as ${path})`, {
        suggestions: ['Run scripts/setup.sh (it installs libbpf-dev, libelf-dev, zlib1g-dev and libzstd-dev)'],
      });
    });
    identity.push(`${lib} ${sha256(bytes)}`);
  }
  return { compiler, flags: [], identity };
}

async function legacyToolchain(arch: Arch, options: SysrootOptions): Promise<Toolchain> {
  const compiler = arch === 'x86_64' ? 'gcc' : 'aarch64-linux-gnu-gcc';
  const version = await run(compiler, ['--version']).then((r) => r.stdout.split('\n')[0] ?? '');
  const sysroot = await legacySysroot(arch, options);
  return { compiler, flags: sysroot.flags, identity: ['legacy', version, ...sysroot.identity] };
}

async function arm64Toolchain(options: SysrootOptions): Promise<Toolchain> {
  const compiler = 'aarch64-linux-gnu-gcc';
  const version = await run(compiler, ['--version']).then((r) => r.stdout.split('\n')[0] ?? '');
  const sysroot = await arm64Sysroot(options);
  return { compiler, flags: sysroot.flags, identity: [version, ...sysroot.identity] };
}

const built = new Map<string, Promise<GuestLoader>>();

/**
 * The guest loader of an arch, built when its cache entry is missing. Memoized
 * per process: parallel boots ask for it once each and hash the libraries once.
 */
export function guestLoader(arch: Arch, options: SysrootOptions, variant: GuestVariant = 'libbpf1'): Promise<GuestLoader> {
  const key = `${arch}\n${variant}\n${options.cacheDir}\n${options.mirror ?? ''}`;
  let pending = built.get(key);
  if (pending === undefined) {
    pending = buildGuestLoader(arch, options, variant);
    // A failure is not remembered: the next boot tries again (e.g. after a network error).
    pending.catch(() => built.delete(key));
    built.set(key, pending);
  }
  return pending;
}

async function buildGuestLoader(arch: Arch, options: SysrootOptions, variant: GuestVariant): Promise<GuestLoader> {
  const source = await guestSource();
  const toolchain = variant === 'legacy' ? await legacyToolchain(arch, options) : arch === 'x86_64' ? await hostToolchain() : await arm64Toolchain(options);
  const link = variant === 'legacy' ? LEGACY_LINK : LINK;
  const key = sha256([arch, sha256(source.bytes), ...toolchain.identity].join('\n'));
  const name = variant === 'legacy' ? `guest-legacy-${arch}` : `guest-${arch}`;
  const entry = await ensureEntry(join(options.cacheDir, 'verify'), name, key, async (dir) => {
    await compile(toolchain.compiler, ['-static', '-O2', '-Wall', '-o', join(dir, LOADER), source.path, ...toolchain.flags, ...link]);
  });
  const path = join(entry.path, LOADER);
  return { arch, variant, path, sha256: sha256(await readFile(path)) };
}
