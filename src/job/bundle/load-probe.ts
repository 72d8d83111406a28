import { dirname, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { BUILD_KINDS, type Probe } from '../../config/probe-schema.js';
import { ConfigError } from '../../errors.js';
import { ARCHES } from '../../kernel/identity.js';
import { specDigest, type ProbeSpec } from '../probe-spec.js';
import { packBundle } from './bundle.js';
import { assertInside, collectTree, type BundleFile, type BundleLimits } from './collect.js';

export interface LoadedProbe {
  readonly spec: ProbeSpec;
  /** The bundle's bytes, to be stored (storeBundle) and cached (cacheBundle) before jobs run. */
  readonly tar: Buffer;
}

/** `locate(['probes', 0, 'root'])` → "kernels.yaml:7: probes[0].root" (from the loaded kernels file). */
export type Locate = (field: readonly (string | number)[]) => string;

/**
 * kernels.yaml's probe → the spec its jobs carry and the bundle of its root.
 * Every path a setting names must be inside the root and in the bundle, so a
 * mistake fails here, once, with the field named, rather than on every kernel.
 */
export async function loadProbe(probe: Probe, index: number, baseDir: string, locate: Locate, limits?: BundleLimits): Promise<LoadedProbe> {
  const at = (...field: (string | number)[]): string => locate(['probes', index, ...field]);
  if (probe.source === undefined && probe.sources === undefined && probe.kbuild === undefined) {
    throw new ConfigError(`${at()}: probe "${probe.name}" names no \`source\`, \`sources\` or \`kbuild\`; expected at least one`);
  }
  if (probe.source !== undefined && probe.sources !== undefined) throw new ConfigError(`${at('sources')}: give either \`source\` or \`sources\`, not both`);
  const rootRel = probe.root ?? (probe.source === undefined ? '.' : dirname(probe.source));
  const root = await assertInside(baseDir, resolve(baseDir, rootRel), at(probe.root === undefined ? 'source' : 'root'));
  const tree = await collectTree(root, at(probe.root === undefined ? 'source' : 'root'), {
    exclude: probe.exclude,
    ...(limits === undefined ? {} : { limits }),
  });
  const builds = probe.builds ?? (probe.kbuild !== undefined && probe.sources === undefined && probe.source === undefined ? ['non-core' as const] : [...BUILD_KINDS]);
  const paths = new Set(tree.files.map((f) => f.path));
  const files = new Map(tree.files.map((f) => [f.path, f]));

  let sources: string[];
  if (probe.source !== undefined) {
    const rel = relative(root, await assertInside(baseDir, resolve(baseDir, probe.source), at('source'))).split(sep).join('/');
    if (rel.startsWith('..') || !paths.has(rel)) throw new ConfigError(`${at('source')}: ${probe.source} is not a file under the probe root ${rootRel}`);
    sources = [rel];
  } else {
    sources = expandSources(probe.sources ?? [], tree.files, at('sources'));
  }
  const needFile = (path: string, field: (string | number)[]): void => {
    const file = files.get(path);
    if (file === undefined) throw new ConfigError(`${at(...field)}: ${path} is not a file under the probe root ${rootRel}`);
  };
  const needDir = (dir: string, field: (string | number)[]): void => {
    if (dir === '.' || [...paths].some((p) => p.startsWith(`${dir}/`))) return;
    throw new ConfigError(`${at(...field)}: ${dir} is not a folder under the probe root ${rootRel}`);
  };
  probe.includes.forEach((dir, i) => needDir(dir, ['includes', i]));
  const vmlinux: ProbeSpec['vmlinux'] =
    typeof probe.vmlinux !== 'string' ? probe.vmlinux
    : probe.vmlinux === 'kbuild' ? {}
    : probe.vmlinux === 'none' ? 'none'
    : Object.fromEntries(ARCHES.map((a) => [a, probe.vmlinux]));
  for (const [arch, path] of Object.entries(vmlinux === 'none' ? {} : vmlinux)) if (typeof path === 'string') needFile(path, ['vmlinux', ...(typeof probe.vmlinux === 'string' ? [] : [arch])]);
  if (typeof probe.libbpf === 'object' && 'dir' in probe.libbpf) {
    const dir = probe.libbpf.dir;
    if (!paths.has(`${dir}/bpf/bpf_helpers.h`) && !paths.has(`${dir}/bpf_helpers.h`)) {
      throw new ConfigError(`${at('libbpf', 'dir')}: ${dir} holds neither bpf/bpf_helpers.h nor bpf_helpers.h`);
    }
  }
  probe.copy.forEach((c, i) => {
    const match = picomatch(c.from);
    if (!tree.files.some((f) => match(f.path))) throw new ConfigError(`${at('copy', i, 'from')}: "${c.from}" matches no file under the probe root ${rootRel}`);
  });
  const copied = (path: string): boolean => probe.copy.some((c) => tree.files.some((f) => picomatch(c.from)(f.path) && `${c.to === '.' ? '' : `${c.to}/`}${f.path.split('/').pop()}` === path));
  probe.configure.forEach((c, i) => {
    if (!copied(c.from)) needFile(c.from, ['configure', i, 'from']);
  });
  if (probe.kbuild !== undefined) {
    needDir(probe.kbuild.dir, ['kbuild', 'dir']);
    if (!builds.includes('non-core')) throw new ConfigError(`${at('kbuild')}: a kbuild probe builds per kernel; \`builds\` must include non-core`);
  } else if (sources.length === 0) {
    throw new ConfigError(`${at('sources')}: matches no file under ${rootRel}`);
  }
  if (probe.kbuild !== undefined && builds.includes('core') && sources.length === 0) {
    throw new ConfigError(`${at('builds')}: a CO-RE build needs \`sources\` (the kernel's build system makes only the per-kernel object)`);
  }

  const { tar, ref } = await packBundle(tree.files);
  const cflags = Array.isArray(probe.cflags) ? { 'non-core': probe.cflags, core: probe.cflags } : { 'non-core': probe.cflags?.['non-core'] ?? [], core: probe.cflags?.core ?? [] };
  const body: Omit<ProbeSpec, 'digest'> = {
    name: probe.name,
    bundle: ref,
    sources,
    builds,
    includes: probe.includes,
    defines: probe.defines,
    cflags,
    mcpu: probe.mcpu,
    vmlinux,
    libbpf: probe.libbpf,
    uapi: probe.uapi,
    copy: probe.copy,
    configure: probe.configure,
    ...(probe.kbuild === undefined ? {} : { kbuild: probe.kbuild }),
    tweaks: probe.tweaks,
  };
  return { spec: { ...body, digest: specDigest(body) }, tar };
}

/** Globs against the bundle's files, in the order the patterns are listed, each match once. */
function expandSources(patterns: readonly string[], files: readonly BundleFile[], where: string): string[] {
  const out: string[] = [];
  for (const pattern of patterns) {
    const match = picomatch(pattern);
    const hits = files.filter((f) => f.kind === 'file' && match(f.path)).map((f) => f.path);
    if (hits.length === 0) throw new ConfigError(`${where}: "${pattern}" matches no file under the probe root`);
    for (const hit of hits) if (!out.includes(hit)) out.push(hit);
  }
  return out;
}
