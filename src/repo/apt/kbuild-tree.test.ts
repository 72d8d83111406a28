import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArchiveError } from '../../errors.js';
import { buildDeb } from '../../../test/helpers/apt-mirror.js';
import { layoutBuildTree } from './kbuild-tree.js';

/** Small packages shaped like Debian's (headers linking into linux-kbuild-X), some of them hostile. */

const FLAVOUR = 'linux-headers-9.9.0-1-amd64';
const COMMON = 'linux-headers-9.9.0-1-common';
const TOOLS = {
  'usr/lib/linux-kbuild-9.9/scripts/Makefile.build': '# build\n',
  'usr/lib/linux-kbuild-9.9/scripts/basic/fixdep': 'x',
  'usr/lib/linux-kbuild-9.9/scripts/mod/modpost': 'x',
};

describe('kernel build tree layout', () => {
  let work = '';
  let headerRoot = '';
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-tree-'));
    headerRoot = join(work, 'headers');
    const flavour = join(headerRoot, 'usr', 'src', FLAVOUR);
    await mkdir(flavour, { recursive: true });
    await mkdir(join(headerRoot, 'usr', 'src', COMMON), { recursive: true });
    await writeFile(join(flavour, 'Makefile'), `include /usr/src/${COMMON}/Makefile\n`);
    await writeFile(join(headerRoot, 'usr', 'src', COMMON, 'Makefile'), '# top\n');
    await symlink('../../lib/linux-kbuild-9.9/scripts', join(flavour, 'scripts'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  const layout = async (name: string, symlinks: Record<string, string>): Promise<{ dest: string; run: Promise<string> }> => {
    const deb = await buildDeb(join(work, name), { name: 'linux-kbuild-9.9', version: '9.9.1-1', arch: 'amd64', files: TOOLS, symlinks });
    const dest = join(work, `${name}-tree`);
    await mkdir(dest);
    return { dest, run: layoutBuildTree(dest, { headerRoot, kbuildDeb: join(work, name, 'mirror', deb.filename), flavourDir: FLAVOUR }) };
  };

  it('resolves the headers into the tools, rewrites absolute links and the Makefile include', async () => {
    const { dest, run } = await layout('good', { 'usr/lib/linux-kbuild-9.9/tools': '/usr/lib/linux-kbuild-9.9/scripts' });
    const buildDir = await run;
    assert.equal(buildDir, join(dest, 'usr', 'src', FLAVOUR));
    assert.equal(await readFile(join(buildDir, 'scripts', 'Makefile.build'), 'utf8'), '# build\n');
    assert.equal(await readlink(join(dest, 'usr/lib/linux-kbuild-9.9/tools')), 'scripts');
    assert.equal(await realpath(join(dest, 'usr/lib/linux-kbuild-9.9/tools')), await realpath(join(dest, 'usr/lib/linux-kbuild-9.9/scripts')));
    assert.equal(await readFile(join(buildDir, 'Makefile'), 'utf8'), `include $(dir $(lastword $(MAKEFILE_LIST)))../${COMMON}/Makefile\n`);
    // The header tree it was linked from keeps its own Makefile (shared inode replaced, not edited).
    assert.match(await readFile(join(headerRoot, 'usr', 'src', FLAVOUR, 'Makefile'), 'utf8'), /^include \/usr\/src\//);
  });

  for (const [name, target] of [
    ['absolute-outside', '/etc/passwd'],
    ['relative-escape', '../../../../../etc/passwd'],
    ['absolute-escape', '/usr/lib/../../etc/passwd'],
  ] as const) {
    it(`refuses a tools link that leaves the tree (${target})`, async () => {
      const { run } = await layout(name, { 'usr/lib/linux-kbuild-9.9/evil': target });
      await assert.rejects(run, (err: unknown) => err instanceof ArchiveError && /leaves the tree|outside usr\/lib/.test(err.message));
    });
  }

  it('copies (hard links) a common tree the headers only link to, so the build tree stands alone', async () => {
    // A header tree from the cache: its common folder is a relative link to the ABI's shared tree.
    const shared = join(work, 'shared-common');
    await mkdir(join(shared, 'usr', 'src', COMMON), { recursive: true });
    await writeFile(join(shared, 'usr', 'src', COMMON, 'Makefile'), '# shared top\n');
    const linked = join(work, 'linked-headers');
    await mkdir(join(linked, 'usr', 'src', FLAVOUR), { recursive: true });
    await writeFile(join(linked, 'usr', 'src', FLAVOUR, 'Makefile'), `include /usr/src/${COMMON}/Makefile\n`);
    await symlink('../../lib/linux-kbuild-9.9/scripts', join(linked, 'usr', 'src', FLAVOUR, 'scripts'));
    await symlink(`../../../shared-common/usr/src/${COMMON}`, join(linked, 'usr', 'src', COMMON));
    const deb = await buildDeb(join(work, 'linked'), { name: 'linux-kbuild-9.9', version: '9.9.1-1', arch: 'amd64', files: TOOLS });
    const dest = join(work, 'linked-tree');
    await mkdir(dest);
    await layoutBuildTree(dest, { headerRoot: linked, kbuildDeb: join(work, 'linked', 'mirror', deb.filename), flavourDir: FLAVOUR });
    const common = join(dest, 'usr', 'src', COMMON);
    assert.ok((await lstat(common)).isDirectory(), 'a folder of its own, not the link');
    assert.equal(await readFile(join(common, 'Makefile'), 'utf8'), '# shared top\n');
    assert.equal((await stat(join(common, 'Makefile'))).ino, (await stat(join(shared, 'usr', 'src', COMMON, 'Makefile'))).ino, 'hard-linked, not copied');
  });
});
