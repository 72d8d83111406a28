/** Byte counts as people read them: 549 B, 141.3 KiB, 3.2 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit] ?? 'TiB'}`;
}

export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio > 0.999 && ratio < 1 ? 2 : 1)}%`;
}

/** A long log cut for the page; the full text stays in the index. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (${text.length - max} more characters in index.json)`;
}

export const firstLine = (text: string, max = 160): string => clip(text.split('\n', 1)[0] ?? '', max);

/**
 * JSON for a `<script type="application/json">` element: `<`, `>` and `&`
 * escaped so no string can close the element or open a comment, and U+2028/9
 * escaped so the text is also valid JavaScript.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The sha256 as the matrix shows it; the full digest stays in the cell's details. */
export const shortSha = (sha256: string): string => sha256.slice(0, 12);

const STORE_KEY = /^[A-Za-z0-9][A-Za-z0-9._+~-]*(\/[A-Za-z0-9][A-Za-z0-9._+~-]*)*$/;

/**
 * A link from report.html (at the store's top, beside index.json) to a stored
 * file: the store key as a relative URL. A key that is not a plain relative
 * path (a scheme, "..", "//") gets no link at all, whatever the index says.
 */
export function storeHref(key: string): string {
  if (!STORE_KEY.test(key) || key.split('/').some((part) => part === '.' || part === '..')) return '';
  // Every character a store key may hold is already safe in a URL path.
  return key;
}
