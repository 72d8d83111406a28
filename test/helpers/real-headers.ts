/**
 * Test support: REAL kernel headers for other distros' fixtures. The Debian
 * builder fetches (and caches) real Debian header packages; their two trees
 * are merged into one kernel-devel style tree (common first, the flavour's
 * generated files on top; arch/x86 only, as an x86_64 kernel-devel has),
 * cached content-addressed under the cache root. `relabel` rewrites only
 * LINUX_VERSION_CODE in version.h: no suite of this host's mirror serves a
 * kernel below 5.5 (buster is gone), so a <5.5 fixture is a real 5.10 tree
 * presented under a <5.5 release string, and says so in its release
 * ("kbuild510") and in a README.kbuild-fixture file inside the tree.
 */
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { debianBuilder } from '../../builders/debian/index.js';
import type { FetchedHeaders } from '../../builders/types.js';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { contentKey, ensureEntry } from '../../src/cache/content-cache.js';
import { run } from '../../src/exec/exec.js';
import type { KernelIdentity } from '../../src/kernel/identity.js';

export const DEBIAN_5_10: KernelIdentity = { distro: 'debian', release: '5.10.0-32-cloud-amd64', arch: 'x86_64' };
export const DEBIAN_6_1: KernelIdentity = { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' };

export function debianHeaders(kernel: KernelIdentity): Promise<FetchedHeaders> {
  return debianBuilder.fetchHeaders(kernel, { cacheDir: cacheRoot() });
}

export interface Relabel {
  readonly versionCode: number;
  readonly note: string;
}

/** A single tree (as /usr/src/kernels/<release>) made of the Debian kernel's two header trees. */
export async function mergedTree(kernel: KernelIdentity, relabel?: Relabel): Promise<string> {
  const headers = await debianHeaders(kernel);
  const key = contentKey('merged-tree-v1', ...headers.packages.map((p) => p.sha256), String(relabel?.versionCode ?? ''));
  const entry = await ensureEntry(cacheRoot(), 'test-fixtures', key, async (tmp) => {
    const tree = join(tmp, 'tree');
    await run('cp', ['-a', `${headers.trees.common}/.`, tree]);
    for (const arch of await readdir(join(tree, 'arch'))) if (arch !== 'x86') await rm(join(tree, 'arch', arch), { recursive: true });
    await run('cp', ['-a', `${headers.trees.flavour}/.`, tree]);
    if (relabel !== undefined) {
      const path = join(tree, 'include/generated/uapi/linux/version.h');
      const text = await readFile(path, 'utf8');
      await writeFile(path, text.replace(/^#define\s+LINUX_VERSION_CODE\s+[0-9]+$/m, `#define LINUX_VERSION_CODE ${relabel.versionCode}`));
      await writeFile(join(tree, 'README.kbuild-fixture'), `${relabel.note}\n`);
    }
  });
  return join(entry.path, 'tree');
}
