import type { Probe } from '../../config/kernels-schema.js';
import { conditionHolds } from '../../job/build-config.js';
import type { KernelIdentity } from '../../kernel/identity.js';
import { parseReleaseVersion, versionCode } from '../../kernel/release.js';
import type { KernelPolicy, ProbeCheck } from '../types.js';

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
  const lists = (globs: readonly string[] | undefined): readonly string[] | undefined => (globs === undefined || globs.length === 0 ? undefined : [...globs]);
  const attachSkip = lists(verify?.attach?.skip);
  const attachOptional = lists(verify?.attach?.optional);
  const autoloadDisable = lists(verify?.autoload?.disable);
  const kernels: KernelPolicy[] = (verify?.kernels ?? []).map((r) => {
    const skip = lists(r.attach?.skip);
    const optional = lists(r.attach?.optional);
    const disable = lists(r.autoload?.disable);
    return {
      ...(r.when === undefined ? {} : { when: r.when }),
      ...(r.arch === undefined ? {} : { arch: r.arch }),
      ...(skip === undefined ? {} : { attachSkip: skip }),
      ...(optional === undefined ? {} : { attachOptional: optional }),
      ...(disable === undefined ? {} : { autoloadDisable: disable }),
      ...(r.mode === undefined ? {} : { mode: r.mode }),
      ...(r.verify === undefined ? {} : { verify: r.verify }),
    };
  });
  return {
    check: {
      ...(wantsEvent
        ? { event: { trigger: verify.trigger ?? 'execve', count: verify.count ?? DEFAULT_TRIGGER_COUNT, counterMap: verify.counterMap ?? defaultCounterMap(probe) } }
        : {}),
      ...(attachSkip === undefined ? {} : { attachSkip }),
      ...(attachOptional === undefined ? {} : { attachOptional }),
      ...(autoloadDisable === undefined ? {} : { autoloadDisable }),
      ...(kernels.length === 0 ? {} : { kernels }),
    },
  };
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
  const merged = (field: 'attachSkip' | 'attachOptional' | 'autoloadDisable'): readonly string[] | undefined => {
    const all = [...(check[field] ?? []), ...rules.flatMap((r) => r[field] ?? [])];
    return all.length === 0 ? undefined : [...new Set(all)];
  };
  const attachSkip = merged('attachSkip');
  const attachOptional = merged('attachOptional');
  const autoloadDisable = merged('autoloadDisable');
  return {
    ...(check.event === undefined ? {} : { event: check.event }),
    ...(attachSkip === undefined ? {} : { attachSkip }),
    ...(attachOptional === undefined ? {} : { attachOptional }),
    ...(autoloadDisable === undefined ? {} : { autoloadDisable }),
  };
}
