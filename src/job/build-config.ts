import { ConfigError } from '../errors.js';
import { parseReleaseVersion, releaseProblem, versionCode } from '../kernel/release.js';
import { checkDefine, renderTemplate } from '../template/render.js';

/**
 * The per-kernel build configuration of a non-CO-RE probe, rendered into
 * kbuild_config.h. Probes branch on KBUILD_LINUX_VERSION_CODE rather than on
 * <linux/version.h> so that an override (a vendor kernel whose headers lie
 * about its features) reaches the probe and the tweak rules alike.
 */

/** Same shape as kernels.yaml's tweak entries (src/config/kernels-schema.ts). */
export interface BuildTweak {
  /** One comparison such as ">=5.8" or "<5.5"; absent means every kernel. */
  readonly when?: string | undefined;
  readonly defines: Readonly<Record<string, string | number>>;
}

export interface ConfigDefine {
  readonly name: string;
  readonly value: string;
}

export interface KbuildConfig {
  readonly release: string;
  readonly versionCode: number;
  readonly maxPathComponents: number;
  /** Extra defines, MAX_PATH_COMPONENTS excluded, in first-seen order; later tweaks win. */
  readonly defines: readonly ConfigDefine[];
}

export const CONFIG_HEADER_NAME = 'kbuild_config.h';

/**
 * Below 5.5 probes fall back to bpf_probe_read, and kernels before 5.2 refuse
 * programs over 4096 instructions: with 48 steps the unrolled cwd walk of the
 * execve probe stays under that (3808 instructions with clang 14), with 80 it
 * does not (6354).
 */
const SMALL_WALK_BELOW = versionCode({ major: 5, minor: 5, patch: 0 });
const SMALL_WALK = 48;
const DEFAULT_WALK = 80;
/** CWD_LEN (4096) holds at most 2048 components of "/x". */
const MAX_WALK = 2048;
const MAX_VERSION_CODE = 0x7fffffff;

/** Names the template itself defines; a tweak setting them would be a redefinition. */
const RESERVED = new Set(['KBUILD_CONFIG_H', 'KBUILD_RELEASE', 'KBUILD_LINUX_VERSION_CODE']);
const CONDITION = /^\s*(<=|>=|==|<|>)\s*([0-9]+)\.([0-9]+)(?:\.([0-9]+))?\s*$/;

export function buildConfig(
  release: string,
  versionCodeOverride: number | undefined,
  tweaks: readonly BuildTweak[],
): KbuildConfig {
  const problem = releaseProblem(release);
  if (problem !== undefined) throw new ConfigError(`kernel release ${JSON.stringify(release)} ${problem}`);
  if (
    versionCodeOverride !== undefined &&
    (!Number.isSafeInteger(versionCodeOverride) || versionCodeOverride < 0 || versionCodeOverride > MAX_VERSION_CODE)
  ) {
    throw new ConfigError(`version code override ${versionCodeOverride} is not a non-negative 31-bit integer`);
  }
  const code = versionCodeOverride ?? versionCode(parseReleaseVersion(release));

  const defines = new Map<string, string>();
  defines.set('MAX_PATH_COMPONENTS', String(code < SMALL_WALK_BELOW ? SMALL_WALK : DEFAULT_WALK));
  for (const tweak of tweaks) {
    if (tweak.when !== undefined && !conditionHolds(tweak.when, code)) continue;
    for (const [name, value] of Object.entries(tweak.defines)) {
      const text = checkDefine(name, value);
      if (RESERVED.has(name)) throw new ConfigError(`define ${name} is set by kbuild itself and cannot be tweaked`);
      defines.set(name, text);
    }
  }

  const walk = defines.get('MAX_PATH_COMPONENTS') ?? '';
  defines.delete('MAX_PATH_COMPONENTS');
  const maxPathComponents = Number(walk);
  if (!/^[0-9]+$/.test(walk) || maxPathComponents < 1 || maxPathComponents > MAX_WALK) {
    throw new ConfigError(`MAX_PATH_COMPONENTS must be an integer from 1 to ${MAX_WALK}, got ${JSON.stringify(walk)}`);
  }
  return {
    release,
    versionCode: code,
    maxPathComponents,
    defines: [...defines].map(([name, value]) => ({ name, value })),
  };
}

/** The text of kbuild_config.h for one kernel. */
export async function renderKbuildConfig(config: KbuildConfig): Promise<string> {
  // Re-checked here: a config may come from elsewhere than buildConfig (a queue message).
  if (releaseProblem(config.release) !== undefined) throw new ConfigError(`invalid release ${JSON.stringify(config.release)}`);
  for (const define of config.defines) checkDefine(define.name, define.value);
  for (const n of [config.versionCode, config.maxPathComponents]) {
    if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(`configuration number ${n} is not a non-negative integer`);
  }
  return renderTemplate('kbuild-config.h', {
    release: config.release,
    versionCode: config.versionCode,
    maxPathComponents: config.maxPathComponents,
    defines: config.defines.map((d) => ({ name: d.name, value: d.value })),
  });
}

/** Whether a tweak's `when` (">=5.8", "<5.5", "==6.1.0") holds for a kernel's version code. */
export function conditionHolds(when: string, code: number): boolean {
  const match = CONDITION.exec(when);
  if (match === null) throw new ConfigError(`tweak condition ${JSON.stringify(when)} is not like ">=5.8" or "<5.5"`);
  const bound = versionCode({ major: Number(match[2]), minor: Number(match[3]), patch: Number(match[4] ?? '0') });
  switch (match[1]) {
    case '<':
      return code < bound;
    case '<=':
      return code <= bound;
    case '>':
      return code > bound;
    case '>=':
      return code >= bound;
    default:
      return code === bound;
  }
}
