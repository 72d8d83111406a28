import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  BuildKind,
  ConfigureFile,
  CopyFiles,
  KbuildRecipe,
  LibbpfChoice,
  MacroName,
  Mcpu,
  ProbeDefineValue,
  ProbeName,
  RelDir,
  RelPath,
  Tweak,
  UapiChoice,
} from '../config/probe-schema.js';
import { CFlags } from '../config/cflags.js';

/**
 * What a build job carries about its probe: the settings of kernels.yaml,
 * normalized (globs expanded, defaults applied), and the address of the
 * sources bundle. A worker takes it from Redis, so it is validated again
 * with this very schema; `digest` covers all of it and is part of every
 * build id, so any change to a source or a setting rebuilds.
 */
export const ProbeSpec = z.strictObject({
  name: ProbeName,
  bundle: z.strictObject({
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    size: z.number().int().nonnegative(),
    files: z.number().int().nonnegative(),
  }),
  /** Sources compiled one by one (and linked when there are several), relative to the root. Empty for a kbuild-only probe. */
  sources: z.array(RelPath).max(4096),
  builds: z.array(BuildKind).min(1),
  includes: z.array(RelDir),
  defines: z.record(MacroName, ProbeDefineValue),
  cflags: z.strictObject({ 'non-core': CFlags, core: CFlags }),
  mcpu: Mcpu,
  /** Files under the root to use as vmlinux.h per arch (an arch absent here gets kbuild's own), or none at all. */
  vmlinux: z.union([z.literal('none'), z.strictObject({ x86_64: RelPath.optional(), arm64: RelPath.optional() })]),
  libbpf: LibbpfChoice,
  uapi: UapiChoice,
  copy: z.array(CopyFiles),
  configure: z.array(ConfigureFile),
  kbuild: KbuildRecipe.optional(),
  tweaks: z.array(Tweak),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ProbeSpec = z.infer<typeof ProbeSpec>;

/** The digest of a spec: every field but the digest itself, in a canonical order. */
export function specDigest(spec: Omit<ProbeSpec, 'digest'> & { digest?: string }): string {
  const { digest: _ignored, ...rest } = spec;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The -D arguments of a probe's `defines`, in a stable order. */
export function defineArgs(defines: ProbeSpec['defines']): string[] {
  return Object.keys(defines)
    .sort()
    .map((name) => {
      const value = defines[name];
      return value === true ? `-D${name}` : `-D${name}=${String(value)}`;
    });
}
