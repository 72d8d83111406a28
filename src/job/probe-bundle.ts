import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Tweak } from '../config/kernels-schema.js';

/**
 * A probe's sources travel inside each job (they are small), so a worker on
 * another machine needs nothing but the job, and the digest of exactly these
 * bytes is part of every build id.
 */
export interface ProbeBundle {
  readonly name: string;
  /** File name of the main source inside `files`. */
  readonly entry: string;
  /** Relative file name → UTF-8 text, for every .c/.h file beside the entry. */
  readonly files: Readonly<Record<string, string>>;
  readonly tweaks: readonly Tweak[];
  readonly digest: string;
}

const MAX_BUNDLE_BYTES = 1024 * 1024;
const SOURCE_FILE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\.(c|h)$/;

export async function loadProbeBundle(name: string, sourcePath: string, tweaks: readonly Tweak[]): Promise<ProbeBundle> {
  const dir = dirname(sourcePath);
  const entry = basename(sourcePath);
  const info = await stat(sourcePath).catch(() => undefined);
  if (info?.isFile() !== true) throw new ConfigError(`probe "${name}": source ${sourcePath} does not exist or is not a file`);
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isFile() && SOURCE_FILE.test(d.name))
    .map((d) => d.name)
    .sort();
  const files: Record<string, string> = {};
  let total = 0;
  for (const file of names) {
    const text = await readFile(join(dir, file), 'utf8');
    total += Buffer.byteLength(text);
    if (total > MAX_BUNDLE_BYTES) throw new ConfigError(`probe "${name}": sources in ${dir} exceed ${MAX_BUNDLE_BYTES} bytes`);
    files[file] = text;
  }
  return { name, entry, files, tweaks, digest: bundleDigest(entry, files, tweaks) };
}

export function bundleDigest(entry: string, files: Readonly<Record<string, string>>, tweaks: readonly Tweak[]): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ entry, tweaks }));
  for (const name of Object.keys(files).sort()) {
    hash.update(`\0${name}\0`);
    hash.update(files[name] ?? '');
  }
  return hash.digest('hex');
}
