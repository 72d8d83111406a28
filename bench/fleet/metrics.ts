/** Sums of kbuild's Prometheus histograms and counters, read from a worker's /metrics text. */
export interface PhaseSeconds {
  readonly [phase: string]: number;
}

export async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}

/** `kbuild_phase_seconds_sum{phase="compile"} 12.3` → { compile: 12.3 } */
export function phaseSeconds(text: string): PhaseSeconds {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^kbuild_phase_seconds_sum\{([^}]*)\} ([0-9.eE+-]+)$/gm)) {
    const phase = label(m[1] ?? '', 'phase');
    if (phase !== undefined) out[phase] = (out[phase] ?? 0) + Number(m[2]);
  }
  return out;
}

/** `kbuild_cache_lookups_total{cache="x",result="hit"} 3` → { "x hit": 3 } */
export function cacheLookups(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^kbuild_cache_lookups_total\{([^}]*)\} ([0-9.eE+-]+)$/gm)) {
    const key = `${label(m[1] ?? '', 'cache') ?? '?'} ${label(m[1] ?? '', 'result') ?? '?'}`;
    out[key] = (out[key] ?? 0) + Number(m[2]);
  }
  return out;
}

function label(labels: string, name: string): string | undefined {
  return new RegExp(`(?:^|,)${name}="([^"]*)"`).exec(labels)?.[1];
}

export function minus(after: PhaseSeconds, before: PhaseSeconds): PhaseSeconds {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) out[k] = v - (before[k] ?? 0);
  return out;
}
