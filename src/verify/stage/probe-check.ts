import type { Probe } from '../../config/kernels-schema.js';
import { conditionHolds } from '../../job/build-config.js';
import type { KernelIdentity } from '../../kernel/identity.js';
import { parseReleaseVersion, versionCode } from '../../kernel/release.js';
import type { AttachTargetPolicy, KernelPolicy, MapPolicy, ProbeCheck, ProgramTypePolicy } from '../types.js';

/** A probe's check, or why it has none (kernels.yaml said `verify: false`). */
export type ProbeCheckChoice = { readonly check: ProbeCheck } | { readonly notVerifiable: string };

export const DEFAULT_TRIGGER_COUNT = 5;

/** `<probe>_count` with "-" as "_": the counter map of an event check that names none. */
export function defaultCounterMap(probe: string): string {
  return `${probe.replace(/-/g, '_')}_count`;
}

/**
 * kernels.yaml's `probes[].verify`, defaults filled. Load + attach is the
 * proof; the event check only when the probe asks for it (trigger, count or
 * counterMap). A probe kernels.yaml does not list gets load + attach.
 */
export function probeCheck(probe: string, entry?: Pick<Probe, 'verify'>): ProbeCheckChoice {
  const verify = entry?.verify;
  if (verify === false) return { notVerifiable: 'kernels.yaml says verify: false for this probe' };
  const wantsEvent = verify !== undefined && (verify.trigger !== undefined || verify.count !== undefined || verify.counterMap !== undefined);
  const maps = mapPolicies(verify?.maps);
  const programTypes: ProgramTypePolicy[] = Object.entries(verify?.programTypes ?? {}).map(([programs, type]) => ({ programs, type }));
  const attachTargets: AttachTargetPolicy[] = Object.entries(verify?.attach?.targets ?? {}).map(([programs, target]) => ({ programs, target }));
  const kernels: KernelPolicy[] = (verify?.kernels ?? []).map((r) => ({
    ...(r.when === undefined ? {} : { when: r.when }),
    ...(r.arch === undefined ? {} : { arch: r.arch }),
    ...globLists(r),
    ...(r.mode === undefined ? {} : { mode: r.mode }),
    ...(r.verify === undefined ? {} : { verify: r.verify }),
  }));
  return {
    check: {
      ...(wantsEvent
        ? { event: { trigger: verify.trigger ?? 'execve', count: verify.count ?? DEFAULT_TRIGGER_COUNT, counterMap: verify.counterMap ?? defaultCounterMap(probe) } }
        : {}),
      ...globLists(verify),
      ...(maps.length === 0 ? {} : { maps }),
      ...(programTypes.length === 0 ? {} : { programTypes }),
      ...(attachTargets.length === 0 ? {} : { attachTargets }),
      ...(kernels.length === 0 ? {} : { kernels }),
    },
  };
}

/** The program-glob fields of a check, and where kernels.yaml has each. */
const GLOB_FIELDS = ['attachSkip', 'attachOptional', 'attachOnly', 'autoloadDisable', 'autocreateDisable', 'autoloadOptional'] as const;
type GlobField = (typeof GLOB_FIELDS)[number];
type GlobLists = { -readonly [F in GlobField]?: readonly string[] };
interface YamlGlobs {
  readonly attach?: { readonly skip?: readonly string[] | undefined; readonly optional?: readonly string[] | undefined; readonly only?: readonly string[] | undefined } | undefined;
  readonly autoload?: { readonly disable?: readonly string[] | undefined; readonly maps?: readonly string[] | undefined; readonly optional?: readonly string[] | undefined } | undefined;
}

/** kernels.yaml's attach and autoload lists as check fields, empty ones left out. */
function globLists(yaml: YamlGlobs | undefined): GlobLists {
  const lists: Record<GlobField, readonly string[] | undefined> = {
    attachSkip: yaml?.attach?.skip,
    attachOptional: yaml?.attach?.optional,
    attachOnly: yaml?.attach?.only,
    autoloadDisable: yaml?.autoload?.disable,
    autocreateDisable: yaml?.autoload?.maps,
    autoloadOptional: yaml?.autoload?.optional,
  };
  const out: GlobLists = {};
  for (const field of GLOB_FIELDS) {
    const globs = lists[field];
    if (globs !== undefined && globs.length > 0) out[field] = [...globs];
  }
  return out;
}

type MapEntries = NonNullable<Exclude<Probe['verify'], false | undefined>['maps']>;

/** kernels.yaml's `maps`, by name in a stable order, inner key and value sizes filled (4 bytes; 0 for a ring buffer). */
function mapPolicies(maps: MapEntries | undefined): MapPolicy[] {
  return Object.entries(maps ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, m]) => {
      const inner = m.inner;
      const size = inner?.type === 'ringbuf' ? 0 : 4;
      return {
        name,
        ...(m.maxEntries === undefined ? {} : { maxEntries: m.maxEntries }),
        ...(inner === undefined ? {} : { inner: { type: inner.type, keySize: inner.keySize ?? size, valueSize: inner.valueSize ?? size, maxEntries: inner.maxEntries } }),
      };
    });
}

/** Checks of every probe a kernels file lists, by name. */
export function probeChecks(probes: readonly Pick<Probe, 'name' | 'verify'>[]): ReadonlyMap<string, ProbeCheckChoice> {
  return new Map(probes.map((p) => [p.name, probeCheck(p.name, p)]));
}

type Mode = NonNullable<KernelPolicy['mode']>;

function rulesFor(check: ProbeCheck, kernel: Pick<KernelIdentity, 'release' | 'arch'>, mode?: Mode): readonly KernelPolicy[] {
  if (check.kernels === undefined) return [];
  const code = versionCode(parseReleaseVersion(kernel.release));
  return check.kernels.filter(
    (r) => (r.arch === undefined || r.arch === kernel.arch) && (r.when === undefined || conditionHolds(r.when, code)) && (r.mode === undefined || r.mode === mode),
  );
}

/** The choice for one case: not verifiable when a `kernels` rule it meets says `verify: false`, else checkForKernel's policy. */
export function choiceForCase(choice: ProbeCheckChoice, kernel: Pick<KernelIdentity, 'release' | 'arch'>, mode: Mode): ProbeCheckChoice {
  if (!('check' in choice)) return choice;
  const off = rulesFor(choice.check, kernel, mode).find((r) => r.verify === false);
  if (off !== undefined) {
    const where = [off.when === undefined ? undefined : `kernels ${off.when}`, off.arch, off.mode].filter((w) => w !== undefined).join(', ');
    return { notVerifiable: `kernels.yaml says verify: false for this probe on ${where || 'these kernels'}` };
  }
  return { check: checkForKernel(choice.check, kernel, mode) };
}

/** The policy for one kernel (and mode): the probe's own, plus that of every `kernels` rule the kernel meets. */
export function checkForKernel(check: ProbeCheck, kernel: Pick<KernelIdentity, 'release' | 'arch'>, mode?: Mode): ProbeCheck {
  if (check.kernels === undefined) return check;
  const rules = rulesFor(check, kernel, mode);
  const merged: GlobLists = {};
  for (const field of GLOB_FIELDS) {
    const all = [...(check[field] ?? []), ...rules.flatMap((r) => r[field] ?? [])];
    if (all.length > 0) merged[field] = [...new Set(all)];
  }
  return {
    ...(check.event === undefined ? {} : { event: check.event }),
    ...(check.maps === undefined ? {} : { maps: check.maps }),
    ...(check.programTypes === undefined ? {} : { programTypes: check.programTypes }),
    ...(check.attachTargets === undefined ? {} : { attachTargets: check.attachTargets }),
    ...merged,
  };
}
