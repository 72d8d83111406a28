import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findMirror } from '../../builders/debian/mirror.js';
import { ensureBlob, ensureEntry } from '../../src/cache/content-cache.js';
import { run } from '../../src/exec/exec.js';
import { downloadToFile } from '@kbuild/loader/internal';

/**
 * falcosecurity-libs 0.20.0 from Debian trixie's source archive, and the
 * folder CMake would install for its legacy probe. A stand-in until the
 * real-projects helper (signed Sources index) replaces fetchFalcoLibs; the
 * sha256 and size below are those trixie's signed Sources index lists.
 */

const ORIG = {
  path: 'pool/main/f/falcosecurity-libs/falcosecurity-libs_0.20.0.orig.tar.gz',
  sha256: '4ae6ddb42a1012bacd88c63abdaa7bd27ca0143c4721338a22c45597e63bc99d',
  size: 4545190,
};
export const FALCO_LIBS_VERSION = '0.20.0';

/** The unpacked upstream tree (libs-0.20.0/), cached by the tarball's sha256. */
export async function fetchFalcoLibs(cacheDir: string): Promise<string> {
  const mirror = await findMirror();
  const blob = await ensureBlob(cacheDir, ORIG.sha256, (dest) => downloadToFile(`${mirror.url}/${ORIG.path}`, dest, ORIG));
  const entry = await ensureEntry(cacheDir, 'sources', ORIG.sha256, (dir) => run('tar', ['-xzf', blob.path, '-C', dir]).then(() => undefined));
  return join(entry.path, `libs-${FALCO_LIBS_VERSION}`);
}

const triple = (text: string): [string, string, string] => {
  const [major = '', minor = '', patch = ''] = text.trim().split('.');
  return [major, minor, patch];
};

/**
 * What driver/CMakeLists.txt and driver/bpf/CMakeLists.txt install for the
 * probe (src/<pkg>-<version>/bpf): the probe's files, the driver's headers
 * beside them, driver_config.h from driver_config.h.in, and one folder per
 * feature probe under configure/ with its test.c, Makefile, build.sh and the
 * Makefile.inc that the probe's Makefile includes at make time.
 * Values are those Debian's build passes (DRIVER_VERSION = upstream version;
 * name "scap"; no git commit in a release tarball).
 */
export async function stageFalcoBpf(libs: string, dest: string): Promise<void> {
  const driver = join(libs, 'driver');
  const bpf = join(dest, 'bpf');
  await mkdir(bpf, { recursive: true });
  for (const name of await readdir(join(driver, 'bpf'))) {
    if (/\.(c|h)$/.test(name) || name === 'Makefile') await copyFile(join(driver, 'bpf', name), join(bpf, name));
  }
  for (const name of await readdir(driver)) if (name.endsWith('.h')) await copyFile(join(driver, name), join(bpf, name));
  const [apiMajor, apiMinor, apiPatch] = triple(await readFile(join(driver, 'API_VERSION'), 'utf8'));
  const [schemaMajor, schemaMinor, schemaPatch] = triple(await readFile(join(driver, 'SCHEMA_VERSION'), 'utf8'));
  const values: Record<string, string> = {
    PPM_API_CURRENT_VERSION_MAJOR: apiMajor,
    PPM_API_CURRENT_VERSION_MINOR: apiMinor,
    PPM_API_CURRENT_VERSION_PATCH: apiPatch,
    PPM_SCHEMA_CURRENT_VERSION_MAJOR: schemaMajor,
    PPM_SCHEMA_CURRENT_VERSION_MINOR: schemaMinor,
    PPM_SCHEMA_CURRENT_VERSION_PATCH: schemaPatch,
    DRIVER_VERSION: FALCO_LIBS_VERSION,
    DRIVER_NAME: 'scap',
    DRIVER_DEVICE_NAME: 'scap',
    GIT_COMMIT: '',
  };
  const template = await readFile(join(driver, 'driver_config.h.in'), 'utf8');
  await writeFile(join(bpf, 'driver_config.h'), template.replace(/\$\{([A-Z_]+)\}/g, (_, key: string) => values[key] ?? ''));
  const configure = join(driver, 'bpf', 'configure');
  for (const entry of await readdir(configure, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const out = join(bpf, 'configure', entry.name);
    await mkdir(out, { recursive: true });
    await copyFile(join(configure, entry.name, 'test.c'), join(out, 'test.c'));
    await copyFile(join(configure, 'Makefile'), join(out, 'Makefile'));
    await copyFile(join(configure, 'build.sh'), join(out, 'build.sh'));
    const inc = await readFile(join(configure, 'Makefile.inc.in'), 'utf8');
    await writeFile(join(out, 'Makefile.inc'), inc.replaceAll('@CONFIGURE_MODULE@', entry.name));
  }
}
