import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';

/**
 * Where Debian packages come from: configuration first, then the host's own
 * apt sources. No mirror host is ever built in, so the farm uses whatever
 * mirror (or proxy) the machine is already set up for.
 */

export interface Mirror {
  /** Archive root without a trailing slash, e.g. http://mirror.example/debian. */
  readonly url: string;
  /** Where the URL came from: "configuration", "KBUILD_DEBIAN_MIRROR" or a sources file path. */
  readonly source: string;
}

/** Names of the main archive's suites; "-security", "-updates" and foreign suites are not. */
const DEBIAN_SUITES = new Set([
  'buster', 'bullseye', 'bookworm', 'trixie', 'forky', 'duke', 'sid',
  'oldoldstable', 'oldstable', 'stable', 'testing', 'unstable',
]);

/** Which apt source a lookup wants, by one of its suites. */
type SuiteTest = (suite: string) => boolean;

const isMainSuite: SuiteTest = (suite) => DEBIAN_SUITES.has(suite);
/** The security archive is its own root (debian-security), with suites such as bookworm-security. */
const isSecuritySuite: SuiteTest = (suite) => suite.endsWith('-security') && DEBIAN_SUITES.has(suite.slice(0, -'-security'.length));

export interface MirrorLookup {
  /** BuilderContext.mirror, from kernels.yaml or flags. */
  readonly configured?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Folder holding etc/apt; "/" outside tests. */
  readonly aptRoot?: string;
}

export function normalizeMirrorUrl(raw: string, source: string): Mirror {
  const url = raw.trim().replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+/.test(url)) {
    throw new ConfigError(`Debian mirror ${JSON.stringify(raw)} from ${source} is not an http(s) URL`);
  }
  return { url, source };
}

/** One deb822 stanza's fields; continuation lines are joined with spaces. */
export function parseDeb822(text: string): Record<string, string>[] {
  const stanzas: Record<string, string>[] = [];
  let current: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (Object.keys(current).length > 0) stanzas.push(current);
      current = {};
      last = undefined;
    } else if (line.startsWith('#')) {
      continue;
    } else if (/^[ \t]/.test(line) && last !== undefined) {
      current[last] = `${current[last] ?? ''} ${line.trim()}`.trim();
    } else {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim().toLowerCase();
      current[last] = line.slice(colon + 1).trim();
    }
  }
  if (Object.keys(current).length > 0) stanzas.push(current);
  return stanzas;
}

const words = (value: string | undefined): string[] => (value ?? '').split(/\s+/).filter((w) => w !== '');

/** The first http(s) URI of a "deb" stanza whose suites include a plain Debian suite (or what `wanted` accepts). */
export function mirrorFromDeb822(text: string, wanted: SuiteTest = isMainSuite): string | undefined {
  for (const stanza of parseDeb822(text)) {
    if (stanza['enabled']?.toLowerCase() === 'no') continue;
    if (!words(stanza['types']).includes('deb')) continue;
    if (!words(stanza['suites']).some(wanted)) continue;
    const uri = words(stanza['uris']).find((u) => /^https?:\/\//.test(u));
    if (uri !== undefined) return uri;
  }
  return undefined;
}

/** The same from one-line format: `deb [options] uri suite component...`. */
export function mirrorFromOneLine(text: string, wanted: SuiteTest = isMainSuite): string | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').replace(/\[[^\]]*\]/, ' ').trim();
    const [type, uri, suite] = words(line);
    if (type !== 'deb' || uri === undefined || suite === undefined) continue;
    if (wanted(suite) && /^https?:\/\//.test(uri)) return uri;
  }
  return undefined;
}

async function listSources(dir: string, suffix: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith(suffix)).sort().map((n) => join(dir, n));
}

async function readText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

/** The first apt source (deb822, then one-line files) with a suite `wanted` accepts. */
async function fromAptSources(aptRoot: string | undefined, wanted: SuiteTest): Promise<{ uri: string; path: string } | undefined> {
  const apt = join(aptRoot ?? '/', 'etc', 'apt');
  const candidates: [string, typeof mirrorFromDeb822][] = [
    ...(await listSources(join(apt, 'sources.list.d'), '.sources')).map((p): [string, typeof mirrorFromDeb822] => [p, mirrorFromDeb822]),
    [join(apt, 'sources.list'), mirrorFromOneLine],
    ...(await listSources(join(apt, 'sources.list.d'), '.list')).map((p): [string, typeof mirrorFromOneLine] => [p, mirrorFromOneLine]),
  ];
  for (const [path, parse] of candidates) {
    const text = await readText(path);
    const uri = text === undefined ? undefined : parse(text, wanted);
    if (uri !== undefined) return { uri, path };
  }
  return undefined;
}

/** Configuration, then KBUILD_DEBIAN_MIRROR, then apt's deb822 and one-line sources. */
export async function findMirror(lookup: MirrorLookup = {}): Promise<Mirror> {
  if (lookup.configured !== undefined && lookup.configured !== '') {
    return normalizeMirrorUrl(lookup.configured, 'configuration');
  }
  const fromEnv = (lookup.env ?? process.env)['KBUILD_DEBIAN_MIRROR'];
  if (fromEnv !== undefined && fromEnv !== '') return normalizeMirrorUrl(fromEnv, 'KBUILD_DEBIAN_MIRROR');
  const found = await fromAptSources(lookup.aptRoot, isMainSuite);
  if (found !== undefined) return normalizeMirrorUrl(found.uri, found.path);
  const apt = join(lookup.aptRoot ?? '/', 'etc', 'apt');
  throw new ConfigError(`no Debian mirror configured and none found in ${apt}/sources.list(.d)`, {
    suggestions: ['Set the debian mirror in kernels.yaml or the KBUILD_DEBIAN_MIRROR environment variable'],
  });
}

/**
 * The root of the *-security suites (Debian publishes them apart from the
 * main archive): `configured`, else KBUILD_DEBIAN_SECURITY_MIRROR, else the
 * apt source that lists a *-security suite; undefined when none says.
 */
export async function findSecurityMirror(lookup: MirrorLookup = {}): Promise<Mirror | undefined> {
  if (lookup.configured !== undefined && lookup.configured !== '') return normalizeMirrorUrl(lookup.configured, 'configuration');
  const fromEnv = (lookup.env ?? process.env)['KBUILD_DEBIAN_SECURITY_MIRROR'];
  if (fromEnv !== undefined && fromEnv !== '') return normalizeMirrorUrl(fromEnv, 'KBUILD_DEBIAN_SECURITY_MIRROR');
  const found = await fromAptSources(lookup.aptRoot, isSecuritySuite);
  return found === undefined ? undefined : normalizeMirrorUrl(found.uri, found.path);
}
