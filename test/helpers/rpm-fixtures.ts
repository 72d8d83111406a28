/**
 * Test support: kernel-devel RPMs built by the real rpmbuild (Debian package
 * rpm) from a real header tree, and rpm-md repositories written by the real
 * createrepo_c, laid out as each distro's mirror is. Built RPMs are cached
 * content-addressed under the cache root: rpmbuild of a 60 MB tree takes a while.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { contentKey, ensureEntry } from '../../src/cache/content-cache.js';
import { run } from '../../src/exec/exec.js';

export interface DevelRpm {
  /** As uname -r: <version>-<rel>.x86_64. */
  readonly release: string;
  readonly version: string;
  readonly rel: string;
  readonly tree: string;
  readonly payload: 'xz' | 'zstd' | 'gzip';
}

const PAYLOAD = { xz: 'w2T.xzdio', zstd: 'w3T.zstdio', gzip: 'w6.gzdio' } as const;

function spec(rpm: DevelRpm): string {
  return [
    `%define _binary_payload ${PAYLOAD[rpm.payload]}`,
    '%define __os_install_post %{nil}',
    '%define __arch_install_post %{nil}',
    '%define _build_id_links none',
    '%define debug_package %{nil}',
    'Name: kernel-devel',
    `Version: ${rpm.version}`,
    `Release: ${rpm.rel}`,
    'Summary: kbuild test fixture: real kernel headers repackaged',
    'License: GPL-2.0-only',
    'AutoReqProv: no',
    '%description',
    'Real Debian kernel headers repackaged into the kernel-devel layout for kbuild tests.',
    '%install',
    'mkdir -p %{buildroot}/usr/src/kernels',
    `cp -a ${rpm.tree} %{buildroot}/usr/src/kernels/${rpm.release}`,
    '%files',
    `/usr/src/kernels/${rpm.release}`,
    '',
  ].join('\n');
}

/** Path of the built .rpm (cached). */
export async function buildDevelRpm(rpm: DevelRpm): Promise<string> {
  const text = spec(rpm);
  const entry = await ensureEntry(cacheRoot(), 'test-fixtures', contentKey('kernel-devel-rpm-v1', text), async (tmp) => {
    const top = join(tmp, 'rpmbuild');
    await mkdir(top, { recursive: true });
    await writeFile(join(tmp, 'kernel-devel.spec'), text);
    await run('rpmbuild', ['-bb', '--target', 'x86_64', '--define', `_topdir ${top}`, join(tmp, 'kernel-devel.spec')], { timeoutMs: 600_000 });
    const built = join(top, 'RPMS', 'x86_64', `kernel-devel-${rpm.version}-${rpm.rel}.x86_64.rpm`);
    await copyFile(built, join(tmp, 'package.rpm'));
    await run('rm', ['-rf', top]);
  });
  return join(entry.path, 'package.rpm');
}

/** Writes an rpm-md repository at `repoDir` holding `rpms` under Packages/k/, metadata compressed as asked. */
export async function writeRpmRepo(repoDir: string, rpms: readonly string[], compress: 'gz' | 'xz' | 'zstd' = 'gz'): Promise<void> {
  const packages = join(repoDir, 'Packages', 'k');
  await mkdir(packages, { recursive: true });
  for (const rpm of rpms) {
    const { stdout } = await run('rpm', ['-qp', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm', rpm]);
    await copyFile(rpm, join(packages, stdout.trim()));
  }
  await run('createrepo_c', ['--quiet', '--no-database', `--general-compress-type=${compress === 'zstd' ? 'gz' : compress}`, repoDir]);
  if (compress === 'zstd') await recompressPrimaryZstd(repoDir);
}

/**
 * Fedora's repositories carry primary.xml.zst, which Debian's createrepo_c
 * 0.17 cannot write: the gz primary is recompressed with the zstd tool and
 * repomd.xml's primary entry (location, checksum, size) rewritten to match.
 */
async function recompressPrimaryZstd(repoDir: string): Promise<void> {
  const repodata = join(repoDir, 'repodata');
  const gz = (await readdir(repodata)).find((f) => f.endsWith('-primary.xml.gz'));
  if (gz === undefined) throw new Error(`${repodata}: no primary.xml.gz`);
  const xml = gunzipSync(await readFile(join(repodata, gz)));
  await writeFile(join(repodata, 'primary.xml'), xml);
  await run('zstd', ['-q', '-f', join(repodata, 'primary.xml'), '-o', join(repodata, 'primary.xml.zst')]);
  const zst = await readFile(join(repodata, 'primary.xml.zst'));
  const sha = createHash('sha256').update(zst).digest('hex');
  await rename(join(repodata, 'primary.xml.zst'), join(repodata, `${sha}-primary.xml.zst`));
  await rm(join(repodata, 'primary.xml'));
  await rm(join(repodata, gz));
  const repomd = await readFile(join(repodata, 'repomd.xml'), 'utf8');
  const updated = repomd.replace(/<data type="primary">[\s\S]*?<\/data>/, (block) =>
    block
      .replace(/<checksum type="sha256">[0-9a-f]+<\/checksum>/, `<checksum type="sha256">${sha}</checksum>`)
      .replace(/<location href="[^"]+"\/>/, `<location href="repodata/${sha}-primary.xml.zst"/>`)
      .replace(/<size>[0-9]+<\/size>/, `<size>${zst.length}</size>`),
  );
  await writeFile(join(repodata, 'repomd.xml'), updated);
}
