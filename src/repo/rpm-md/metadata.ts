import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { xz } from '@napi-rs/lzma';
import { XMLParser } from 'fast-xml-parser';
import { decompress as zstdDecompress } from 'fzstd';
import { z } from 'zod';
import { ArchiveError } from '../../errors.js';

/**
 * rpm-md repository metadata (what createrepo_c writes, dnf and yum read;
 * https://github.com/rpm-software-management/createrepo_c/wiki and
 * http://yum.baseurl.org/wiki/RepoMetadata.html): repodata/repomd.xml names
 * primary.xml(.gz|.xz|.zst) with its checksum and size; primary lists every
 * package with its checksum, size and location. Everything is hostile input.
 */

export const RpmEntry = z.object({
  name: z.string(),
  arch: z.string(),
  epoch: z.string(),
  version: z.string(),
  release: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  /** Relative to the repository root, never "..", never absolute. */
  href: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9+_.~/-]*\.rpm$/)
    .refine((h) => !h.split('/').includes('..')),
});
export type RpmEntry = z.infer<typeof RpmEntry>;

export interface PrimaryRef {
  readonly href: string;
  readonly sha256: string;
  readonly size?: number;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, processEntities: true });

type XmlNode = Record<string, unknown>;
const asArray = (value: unknown): XmlNode[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]) as XmlNode[];
const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'object' && value !== null && typeof (value as XmlNode)['#text'] === 'string' ? ((value as XmlNode)['#text'] as string) : undefined;

/** The primary metadata's location and checksum, from repomd.xml. */
export function parseRepomd(xml: string, where: string): PrimaryRef {
  let doc: XmlNode;
  try {
    doc = parser.parse(xml) as XmlNode;
  } catch (err) {
    throw new ArchiveError(`${where}: not XML`, { cause: err });
  }
  const repomd = doc['repomd'] as XmlNode | undefined;
  const primary = asArray(repomd?.['data']).find((d) => d['@type'] === 'primary');
  if (primary === undefined) throw new ArchiveError(`${where}: no <data type="primary">`);
  const checksum = primary['checksum'] as XmlNode | undefined;
  const href = (primary['location'] as XmlNode | undefined)?.['@href'];
  const sum = text(checksum)?.trim().toLowerCase();
  if (checksum?.['@type'] !== 'sha256' || sum === undefined || !/^[0-9a-f]{64}$/.test(sum)) {
    throw new ArchiveError(`${where}: primary metadata has no sha256 checksum (found ${String(checksum?.['@type'] ?? 'none')})`);
  }
  if (typeof href !== 'string' || !/^repodata\/[A-Za-z0-9_.-]+\.xml(\.gz|\.xz|\.zst)?$/.test(href)) {
    throw new ArchiveError(`${where}: primary location ${JSON.stringify(href)} is not a repodata/*primary.xml[.gz|.xz|.zst] path`);
  }
  const size = Number(text(primary['size']));
  return { href, sha256: sum, ...(Number.isSafeInteger(size) && size > 0 ? { size } : {}) };
}

const gunzipAsync = promisify(gunzip);

export async function decompressMetadata(bytes: Buffer, href: string): Promise<string> {
  try {
    if (href.endsWith('.gz')) return (await gunzipAsync(bytes)).toString('utf8');
    if (href.endsWith('.xz')) return (await xz.decompress(bytes)).toString('utf8');
    if (href.endsWith('.zst')) return Buffer.from(zstdDecompress(bytes)).toString('utf8');
    return bytes.toString('utf8');
  } catch (err) {
    throw new ArchiveError(`${href}: cannot decompress`, { cause: err });
  }
}

/**
 * The entries of the named packages in a primary.xml. A real primary lists
 * tens of thousands of packages; only the few <package> elements whose name
 * matches are handed to the XML parser.
 */
export function parsePrimary(xml: string, names: ReadonlySet<string>, where: string): RpmEntry[] {
  const entries: RpmEntry[] = [];
  for (const match of xml.matchAll(/<package\b[^>]*>[\s\S]*?<\/package>/g)) {
    const name = /<name>([^<]*)<\/name>/.exec(match[0])?.[1];
    if (name === undefined || !names.has(name)) continue;
    const pkg = (parser.parse(match[0]) as XmlNode)['package'] as XmlNode;
    const version = pkg['version'] as XmlNode | undefined;
    const checksum = pkg['checksum'] as XmlNode | undefined;
    const location = pkg['location'] as XmlNode | undefined;
    if (location?.['@xml:base'] !== undefined) throw new ArchiveError(`${where}: package ${name} has an xml:base location, which kbuild does not follow`);
    const parsed = RpmEntry.safeParse({
      name,
      arch: text(pkg['arch']),
      epoch: String(version?.['@epoch'] ?? '0'),
      version: version?.['@ver'],
      release: version?.['@rel'],
      sha256: checksum?.['@type'] === 'sha256' ? text(checksum)?.trim().toLowerCase() : undefined,
      size: Number((pkg['size'] as XmlNode | undefined)?.['@package']),
      href: location?.['@href'],
    });
    if (!parsed.success) {
      throw new ArchiveError(`${where}: package ${name} has an unusable entry (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
    }
    entries.push(parsed.data);
  }
  return entries;
}
