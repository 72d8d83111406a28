import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { fetchIndexFile } from './index-file.js';
import { mirrorId, Trust, writeJsonAtomic, type IndexLoadOptions, type StanzaSelection } from './packages-index.js';

/**
 * A suite's Sources index (dists/<suite>/main/source/Sources.xz): one deb822
 * stanza per source package, naming its pool folder and the sha256 of each
 * file (.dsc, .orig.tar.*, .debian.tar.*). ~10 MB compressed, ~57 MB of text
 * of which kbuild wants a handful of stanzas (and few of their fields, since
 * Package-List and Testsuite-Triggers are most of the bytes): only those are cached.
 */

/** One file name: no folder part, no "..", nothing a shell or URL could misread. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9+_.~-]*$/;

export const SourceFile = z.object({
  name: z.string().max(255).regex(FILE_NAME).refine((n) => !n.includes('..')),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});
export type SourceFile = z.infer<typeof SourceFile>;

export const SourceStanza = z.object({
  package: z.string().regex(/^[a-z0-9][a-z0-9+.-]*$/),
  version: z.string().regex(/^(?:[0-9]+:)?[A-Za-z0-9][A-Za-z0-9.+~-]*$/),
  format: z.string().optional(),
  // A pool folder only: a hostile index must not make us fetch "../" or another host.
  directory: z.string().regex(/^pool\/[A-Za-z0-9+_.~/-]+$/).refine((d) => !d.split('/').some((p) => p === '..' || p === '.' || p === '')),
  files: z.array(SourceFile).min(1).max(64),
});
export type SourceStanza = z.infer<typeof SourceStanza>;

export const CachedSourcesIndex = z.object({
  url: z.string(),
  fetchedAt: z.number(),
  trust: Trust,
  signedBy: z.array(z.string()),
  validUntil: z.number().optional(),
  sources: z.array(SourceStanza),
});
export type CachedSourcesIndex = z.infer<typeof CachedSourcesIndex>;

/** Fields of one stanza, lower-cased names; a multi-line field keeps its continuation lines. */
function fieldsOf(block: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of block.split('\n')) {
    if (/^[ \t]/.test(line)) {
      current?.push(line.trim());
      continue;
    }
    const match = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (match?.[1] === undefined) {
      current = undefined;
      continue;
    }
    current = [match[2] ?? ''];
    fields.set(match[1].toLowerCase(), current);
  }
  return fields;
}

function filesOf(lines: readonly string[]): unknown[] {
  return lines
    .filter((line) => line !== '')
    .map((line) => {
      const [sha256, size, name, ...extra] = line.split(/\s+/);
      // A fourth word would be a name with a space: not one of ours.
      return extra.length > 0 ? undefined : { sha256: sha256?.toLowerCase(), size: Number(size), name };
    });
}

/** Parses the stanzas `wanted` matches ("Package: <name>\n..."); stanzas lacking a usable field are skipped. */
export function parseSourceStanzas(text: string, wanted: RegExp): SourceStanza[] {
  const out: SourceStanza[] = [];
  for (const block of text.split('\n\n')) {
    if (!wanted.test(block.trimStart())) continue;
    const fields = fieldsOf(block.trimStart());
    const first = (name: string): string | undefined => fields.get(name)?.[0];
    const parsed = SourceStanza.safeParse({
      package: first('package'),
      version: first('version'),
      ...(fields.has('format') ? { format: first('format') } : {}),
      directory: first('directory'),
      files: filesOf(fields.get('checksums-sha256') ?? []),
    });
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

/** Selects the stanzas of exactly these source packages. */
export function sourceSelection(names: readonly string[]): StanzaSelection {
  const safe = names.map((n) => SourceStanza.shape.package.parse(n).replace(/[+.]/g, '\\$&'));
  return { name: [...names].sort().join('+'), wanted: new RegExp(`^Package: (?:${safe.join('|')})\\n`) };
}

export interface SourcesLocation {
  readonly cacheDir: string;
  readonly archive: string;
  readonly mirror: string;
  readonly suite: string;
  readonly component?: string;
}

export type SourcesResult = { readonly index: CachedSourcesIndex } | { readonly skipped: string };

function cachePath(location: SourcesLocation, selection: StanzaSelection): string {
  const component = location.component ?? 'main';
  const file = `${location.suite}_${component}_source_${selection.name.slice(0, 100)}.json`;
  return join(location.cacheDir, location.archive, 'indexes', mirrorId(location.mirror), file);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function usable(cached: CachedSourcesIndex | undefined, options: IndexLoadOptions): cached is CachedSourcesIndex {
  if (cached === undefined || Date.now() - cached.fetchedAt >= options.ttlMs) return false;
  // An index cached by an unsigned run must not satisfy a run that verifies.
  if (cached.trust !== 'signed' && !options.trust.allowUnsigned) return false;
  return !(options.trust.checkValidUntil && cached.validUntil !== undefined && Date.now() >= cached.validUntil);
}

/** The selected source stanzas of one suite, from the cache when younger than the TTL. */
export async function loadSourcesIndex(location: SourcesLocation, options: IndexLoadOptions, selection: StanzaSelection): Promise<SourcesResult> {
  const path = cachePath(location, selection);
  const text = options.refresh === true ? undefined : await readFile(path, 'utf8').catch(() => undefined);
  const cached = text === undefined ? undefined : CachedSourcesIndex.safeParse(parseJson(text)).data;
  if (usable(cached, options)) return { index: cached };
  const { mirror, suite, archive } = location;
  const fetched = await fetchIndexFile({ mirror, suite, archive, dir: `${location.component ?? 'main'}/source`, base: 'Sources' }, options);
  if ('skipped' in fetched) return fetched;
  const { url, trust, signedBy, validUntil } = fetched;
  const index: CachedSourcesIndex = {
    url,
    fetchedAt: Date.now(),
    trust,
    signedBy: [...signedBy],
    ...(validUntil === undefined ? {} : { validUntil }),
    sources: parseSourceStanzas(fetched.text, selection.wanted),
  };
  await writeJsonAtomic(path, index);
  return { index };
}
