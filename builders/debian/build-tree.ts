import { join, resolve as resolvePath } from 'node:path';
import type { z } from 'zod';
import { contentKey, ensureEntry } from '../../src/cache/content-cache.js';
import { KernelNotFoundError } from '../../src/errors.js';
import type { KernelIdentity } from '../../src/kernel/identity.js';
import { asRef, fetchDeb, headerTrees, type DebFetch } from '../../src/repo/apt/header-tree.js';
import { layoutBuildTree } from '../../src/repo/apt/kbuild-tree.js';
import { loadKernelIndex, loadPackageIndex, mirrorId, parseDepends, type IndexLocation } from '../../src/repo/apt/packages-index.js';
import type { FetchedBuildTree } from '../types.js';
import { debianArch, debianRef, DebianPackage, HeaderResolution, remember, resolveHeaders, type ResolveContext } from './resolve.js';

/**
 * `linux-headers-<release>` links its `scripts` and `tools` into
 * `linux-kbuild-<ver>` (Depends: linux-kbuild-6.1 (>= 6.1.176-1) in bookworm,
 * linux-kbuild-6.12.117+deb13 in trixie). Those hold fixdep and modpost,
 * programs that run on the build machine: the package is taken for the
 * machine's own arch, whatever arch the kernel is (cross builds included).
 */

const KBUILD = /^linux-kbuild-/;
/** Bumped when the layout changes (v2: header trees without other arches and config stamps), so old cache entries are not reused. */
const LAYOUT_VERSION = 'kbuild-tree-v2';

export const BuildTreeResolution = HeaderResolution.extend({ kbuild: DebianPackage });
export type BuildTreeResolution = z.infer<typeof BuildTreeResolution>;

/** Debian's name for the arch this process runs on: the tools must run here (or in a container of the same arch). */
export function hostDebArch(arch: string = process.arch): 'amd64' | 'arm64' {
  if (arch === 'x64') return 'amd64';
  if (arch === 'arm64') return 'arm64';
  throw new KernelNotFoundError(`kernel build trees need linux-kbuild for this machine's arch (${arch}); only amd64 and arm64 are fetched`);
}

/** The index of the suite (and archive root) the headers came from. */
function location(context: ResolveContext, headers: DebianPackage, debArch: string): IndexLocation {
  return { cacheDir: context.cacheDir, archive: 'debian', mirror: headers.mirror, suite: headers.suite, debArch };
}

async function resolveKbuild(context: ResolveContext, kernel: KernelIdentity, headers: DebianPackage, hostArch: string): Promise<DebianPackage> {
  const own = await loadKernelIndex(location(context, headers, debianArch(kernel.arch)), context.index);
  const stanza = 'index' in own ? own.index.packages.find((p) => p.package === headers.name && p.version === headers.version) : undefined;
  const dep = parseDepends(stanza?.depends ?? '')
    .flat()
    .find((d) => KBUILD.test(d.name));
  if (dep === undefined) throw new KernelNotFoundError(`${headers.name} ${headers.version} in debian ${headers.suite} names no linux-kbuild-* package`);
  const tools = await loadPackageIndex(location(context, headers, hostArch), context.index, { name: 'kbuild', wanted: /^Package: linux-kbuild-/ });
  const candidates = 'index' in tools ? tools.index.packages.filter((p) => p.package === dep.name) : [];
  // The tools come from the same source upload as the headers; an index holds one version of each.
  const match =
    candidates.find((p) => p.version === (dep.version ?? headers.version)) ??
    candidates.find((p) => p.version === headers.version) ??
    (dep.relation === '=' ? undefined : candidates[0]);
  if (match === undefined) {
    const found = candidates.map((p) => p.version).join(', ') || 'none';
    throw new KernelNotFoundError(`debian ${headers.suite} ${hostArch} has no ${dep.name} for ${headers.name} ${headers.version} (found: ${found})`);
  }
  return debianRef(match, headers.suite, headers.mirror);
}

export async function resolveBuildTree(
  context: ResolveContext,
  kernel: KernelIdentity,
  hostArch: string,
): Promise<{ value: BuildTreeResolution; fromCache: boolean }> {
  const path = join(context.cacheDir, 'debian', 'resolved', mirrorId(context.mirror), debianArch(kernel.arch), `${kernel.release}.build-tree-${hostArch}.json`);
  const packages = (v: BuildTreeResolution) => [v.headers, v.common, v.kbuild];
  return remember(path, BuildTreeResolution, context, packages, async () => {
    const { value: headers } = await resolveHeaders(context, kernel);
    return { ...headers, kbuild: await resolveKbuild(context, kernel, headers.headers, hostArch) };
  });
}

/** Resolves, downloads (verified by the archive's sha256) and lays out the tree in the content cache. */
export async function debianBuildTree(
  context: ResolveContext,
  fetch: DebFetch,
  kernel: KernelIdentity,
  hostArch: string = hostDebArch(),
): Promise<Omit<FetchedBuildTree, 'fromCache'>> {
  const { value } = await resolveBuildTree(context, kernel, hostArch);
  const { headers, common, kbuild } = value;
  const flavourDir = `linux-headers-${kernel.release}`;
  const key = contentKey(LAYOUT_VERSION, headers.sha256, common.sha256, kbuild.sha256);
  const tree = await ensureEntry(context.cacheDir, 'trees', key, async (dest) => {
    const trees = await headerTrees(fetch, headers, common, { flavour: flavourDir, common: common.name });
    const headerRoot = resolvePath(trees.flavour, '..', '..', '..');
    await layoutBuildTree(dest, { headerRoot, kbuildDeb: await fetchDeb(fetch, kbuild), flavourDir });
  });
  return {
    kernel,
    buildDir: join(tree.path, 'usr', 'src', flavourDir),
    root: tree.path,
    packages: [asRef(headers), asRef(common), asRef(kbuild)],
  };
}
