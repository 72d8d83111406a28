import type { Probe } from '../../config/kernels-schema.js';
import type { ProbeCheck } from '../types.js';

/** A probe's check, or why it has none (kernels.yaml said `verify: false`). */
export type ProbeCheckChoice = { readonly check: ProbeCheck } | { readonly notVerifiable: string };

export const DEFAULT_TRIGGER_COUNT = 5;

/** `<probe>_count` with "-" as "_": the map name convention of the default check. */
export function defaultCounterMap(probe: string): string {
  return `${probe.replace(/-/g, '_')}_count`;
}

/** kernels.yaml's `probes[].verify`, defaults filled; a probe kernels.yaml does not list gets the default check. */
export function probeCheck(probe: string, entry?: Pick<Probe, 'verify'>): ProbeCheckChoice {
  const verify = entry?.verify;
  if (verify === false) return { notVerifiable: 'kernels.yaml says verify: false for this probe' };
  return {
    check: {
      trigger: verify?.trigger ?? 'execve',
      count: verify?.count ?? DEFAULT_TRIGGER_COUNT,
      counterMap: verify?.counterMap ?? defaultCounterMap(probe),
    },
  };
}

/** Checks of every probe a kernels file lists, by name. */
export function probeChecks(probes: readonly Pick<Probe, 'name' | 'verify'>[]): ReadonlyMap<string, ProbeCheckChoice> {
  return new Map(probes.map((p) => [p.name, probeCheck(p.name, p)]));
}
