import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { debianBuilder } from '../../builders/debian/index.js';
import { cacheRoot } from '../cache/cache-dir.js';
import { kernelConfigHasBtf } from './kernel-config.js';

describe('CONFIG_DEBUG_INFO_BTF from a kernel .config (btf: auto)', () => {
  it('reads it from a real Debian header package, and sees it unset', { timeout: 10 * 60 * 1000 }, async () => {
    const kernel = { distro: 'debian', release: '5.10.0-32-cloud-amd64', arch: 'x86_64' } as const;
    const { trees } = await debianBuilder.fetchHeaders(kernel, { cacheDir: cacheRoot() });
    assert.equal(await kernelConfigHasBtf(trees.flavour), true);
    const dir = await mkdtemp(join(tmpdir(), 'kbuild-config-'));
    try {
      const config = await readFile(join(trees.flavour, '.config'), 'utf8');
      await writeFile(join(dir, '.config'), config.replace(/^CONFIG_DEBUG_INFO_BTF=y$/m, '# CONFIG_DEBUG_INFO_BTF is not set'));
      assert.equal(await kernelConfigHasBtf(dir), false);
      await rm(join(dir, '.config'));
      assert.equal(await kernelConfigHasBtf(dir), undefined);
      await cp(join(trees.flavour, '.config'), join(dir, '.config'));
      assert.equal(await kernelConfigHasBtf(dir), true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
