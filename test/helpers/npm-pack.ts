import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** `npm pack` of the package at `dir` (its prepack runs) into `dest`; the tarball's path and the files it holds. */
export async function packInto(dir: string, dest: string, workspace?: string): Promise<{ tarball: string; files: string[] }> {
  const args = ['pack', '--json', '--pack-destination', dest, ...(workspace === undefined ? [] : ['-w', workspace])];
  const { stdout } = await execa('npm', args, { cwd: dir });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  if (packed === undefined) throw new Error(`npm pack printed no tarball: ${stdout}`);
  return { tarball: join(dest, packed.filename), files: packed.files.map((f) => f.path) };
}

/** What `npm install` put into `app`'s node_modules: package names (nested ones too) and bytes on disk. */
export async function installedPackages(app: string): Promise<{ count: number; names: string[]; bytes: number }> {
  const lock = JSON.parse(await readFile(join(app, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  const names = Object.keys(lock.packages).filter((k) => k !== '').map((k) => k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length));
  return { count: names.length, names: [...new Set(names)].sort(), bytes: await diskBytes(join(app, 'node_modules')) };
}

async function diskBytes(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  const entries = await readdir(path);
  let total = 0;
  for (const entry of entries) total += await diskBytes(join(path, entry)).catch(() => 0);
  return total;
}
