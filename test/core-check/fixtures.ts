import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IndexArtifact } from '@kbuild/loader';
import { debianBuilder } from '../../builders/debian/index.js';
import { IMAGE_BTF_FILE, imageBtfEntry } from '../../src/btf/image-btf.js';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { run } from '../../src/exec/exec.js';
import type { KernelIdentity } from '../../src/kernel/identity.js';

/** Test support: the CO-RE check's objects, compiled here with clang, and the real Debian kernels they are checked against. */
export const FIXTURES = fileURLToPath(new URL('../btf/fixtures/core-check', import.meta.url));

/** 5.10 has task_struct.state and module.core_layout; 6.1 has __state and core_layout; 6.12 has __state and mem[]. */
export const CHECK_KERNELS = {
  bullseye: { distro: 'debian', release: '5.10.0-32-cloud-amd64', arch: 'x86_64' },
  bookworm: { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' },
  trixie: { distro: 'debian', release: '6.12.117+deb13-cloud-amd64', arch: 'x86_64' },
} as const satisfies Record<string, KernelIdentity>;

export const OBJECTS = ['renamed', 'guarded', 'flavour', 'flavour-guarded'] as const;
export type CheckObjectName = (typeof OBJECTS)[number];

export async function compileFixture(name: CheckObjectName, dir: string): Promise<string> {
  const out = join(dir, `${name}.o`);
  await run('clang', ['-target', 'bpf', '-O2', '-g', '-D__TARGET_ARCH_x86', '-c', join(FIXTURES, `${name}.bpf.c`), '-o', out]);
  return out;
}

/** The full BTF inside the kernel's real image (downloaded once into the cache). */
export async function kernelBtfFile(kernel: KernelIdentity): Promise<string> {
  const image = await debianBuilder.fetchImage(kernel, { cacheDir: cacheRoot() });
  return join(await imageBtfEntry(cacheRoot(), image, kernel.arch), IMAGE_BTF_FILE);
}

/** An index entry for a compiled CO-RE object stored at core/x86_64/<name>.o. */
export async function coreArtifact(name: string, file: string): Promise<IndexArtifact> {
  const bytes = await readFile(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return {
    path: `core/x86_64/${name}.o`, probe: name, kind: 'core', arch: 'x86_64',
    kernel: CHECK_KERNELS.bookworm, size: bytes.length, sha256, buildId: sha256, toolchain: 'clang (test)', verification: [],
  };
}
