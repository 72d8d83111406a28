/** One kernel as `kbuild crawl --json` prints it. */
export interface CrawledKernel {
  readonly distro: string;
  readonly release: string;
  readonly arch: 'x86_64' | 'arm64';
  readonly packageVersion?: string;
  readonly source?: string;
}

/** Debian's ABI of a release: what its flavours (amd64, cloud-amd64, rt-amd64, arm64-16k, ...) share, the -common headers. */
export function abiOf(release: string): string {
  return /^(.*?)-(?:(?:cloud|rt)-)?(?:amd64|arm64)(?:-16k)?$/.exec(release)?.[1] ?? release;
}

/**
 * About `count` kernels, as whole ABIs (every flavour of each) spread evenly
 * over the crawl, alternating arches: a sample shares -common trees the way the
 * whole archive does. Everything when count ≥ the crawl.
 */
export function pickSample(crawled: readonly CrawledKernel[], count: number): CrawledKernel[] {
  if (count >= crawled.length) return [...crawled];
  const groups = new Map<string, CrawledKernel[]>();
  for (const k of crawled) {
    const key = `${k.arch} ${abiOf(k.release)}`;
    groups.set(key, [...(groups.get(key) ?? []), k]);
  }
  const lanes = ['x86_64', 'arm64'].map((arch) => [...groups.entries()].filter(([key]) => key.startsWith(`${arch} `)).map(([, g]) => g));
  const longest = Math.max(...lanes.map((l) => l.length));
  for (let g = 1; g <= longest; g++) {
    const chosen = lanes.flatMap((lane) => evenly(lane, g)).flat();
    if (chosen.length >= count) return chosen;
  }
  return [...crawled];
}

/** `g` items spread evenly over `list` (all of them when g ≥ its length). */
export function evenly<T>(list: readonly T[], g: number): T[] {
  if (g >= list.length) return [...list];
  return Array.from({ length: g }, (_, i) => list[Math.floor((i * list.length) / g)] as T);
}
