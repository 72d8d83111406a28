import { editDistance } from '@kbuild/loader/internal';

/**
 * "Did you mean": the candidates nearest to a string that matched nothing,
 * by edit distance, then by the longer shared prefix (6.1.0-47 is nearer to
 * 6.1.0-4 than 6.12.0-4 is), then in the candidates' order. Cheap enough for
 * the few hundred releases an archive index lists.
 */
export function nearest(target: string, candidates: Iterable<string>, count = 3): string[] {
  const unique = [...new Set(candidates)].filter((c) => c !== target);
  const scored = unique.map((c, order) => ({ c, order, distance: editDistance(target, c), prefix: sharedPrefix(target, c) }));
  scored.sort((a, b) => a.distance - b.distance || b.prefix - a.prefix || a.order - b.order);
  return scored.slice(0, count).map((s) => s.c);
}

/** "a, b or c". */
export function oneOf(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1) ?? ''}`;
}

function sharedPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}
