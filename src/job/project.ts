import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import { ConfigError } from '../errors.js';
import type { ArtifactStore } from '../store/types.js';
import { unpackBundle } from './bundle/bundle.js';
import type { ProbeSpec } from './probe-spec.js';

/**
 * A job's own copy of the probe's project: the bundle unpacked into the job's
 * scratch folder (writable: the kernel's build system writes into it), with
 * the files `configure` generates written beside the sources, as cmake's
 * configure_file would before a build.
 */
export async function prepareProject(probe: ProbeSpec, dest: string, from: { cacheDir: string; store: ArtifactStore }): Promise<string> {
  await mkdir(dest, { recursive: true });
  await unpackBundle(probe.bundle, dest, from);
  await copyInto(dest, probe.copy);
  for (const file of probe.configure) {
    const template = await readFile(join(dest, file.from), 'utf8');
    const target = join(dest, file.to);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, configureText(template, file.values, file.from));
  }
  return dest;
}

/** Each `copy` entry against the tree as it is at that point (so a later entry sees what an earlier one copied). */
async function copyInto(root: string, entries: ProbeSpec['copy']): Promise<void> {
  for (const entry of entries) {
    const match = picomatch(entry.from);
    const files = (await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile())
      .map((d) => relative(root, join(d.parentPath ?? d.path, d.name)).split(sep).join('/'))
      .filter((path) => match(path))
      .sort();
    const target = join(root, entry.to);
    await mkdir(target, { recursive: true });
    for (const path of files) {
      const dest = join(target, basename(path));
      if (dest !== join(root, path)) await copyFile(join(root, path), dest);
    }
  }
}

type Values = Readonly<Record<string, string | number | boolean>>;

/**
 * cmake's configure_file (without @ONLY): `@VAR@` and `${VAR}` take the value,
 * `#cmakedefine VAR ...` becomes `#define VAR ...` when VAR is set and true,
 * else a commented-out `#undef`; `#cmakedefine01 VAR` becomes 0 or 1. A
 * variable the template uses and `values` lacks is an error, not an empty
 * string: a silent blank in a header is a wrong build.
 */
export function configureText(template: string, values: Values, where: string): string {
  const truthy = (name: string): boolean => {
    const v = values[name];
    return v !== undefined && v !== false && v !== 0 && !/^(|0|OFF|NO|FALSE|N|IGNORE|NOTFOUND|.*-NOTFOUND)$/i.test(String(v));
  };
  const value = (name: string): string => {
    const v = values[name];
    if (v === undefined) throw new ConfigError(`configure ${where}: no value for ${name} (add it under configure[].values)`);
    return typeof v === 'boolean' ? (v ? 'ON' : 'OFF') : String(v);
  };
  const substitute = (line: string): string => line.replace(/@([A-Za-z_][A-Za-z0-9_]*)@|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, a?: string, b?: string) => value((a ?? b)!));
  return template
    .split('\n')
    .map((line) => {
      const d01 = /^(\s*)#(\s*)cmakedefine01\s+([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(line);
      if (d01 !== null) return `${d01[1]}#${d01[2]}define ${d01[3]} ${truthy(d01[3]!) ? 1 : 0}`;
      const d = /^(\s*)#(\s*)cmakedefine\s+([A-Za-z_][A-Za-z0-9_]*)(.*)$/.exec(line);
      if (d !== null) return truthy(d[3]!) ? `${d[1]}#${d[2]}define ${d[3]}${substitute(d[4]!)}` : `/* #undef ${d[3]} */`;
      return substitute(line);
    })
    .join('\n');
}
