import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { builders } from '../../builders/registry.js';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { KernelNotFoundError, NotSupportedError } from '../../src/errors.js';
import { REPO_ROOT } from '../helpers/cli.js';

describe('builder registry', () => {
  it('lists every folder under builders/ under its own name', async () => {
    const folders = (await readdir(join(REPO_ROOT, 'builders'), { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    assert.deepEqual(Object.keys(builders).sort(), folders);
  });

  // The shared contract every distro builder must meet.
  for (const [name, builder] of Object.entries(builders)) {
    describe(`${name} builder contract`, () => {
      it('names itself after its registry key and says what it covers', () => {
        assert.equal(builder.distro, name);
        assert.ok(builder.arches.length > 0);
        assert.ok(builder.covers.length > 0);
      });

      it('fetches kernel images, or says it cannot with NotSupportedError', async () => {
        assert.equal(typeof builder.crawl, 'function', 'every builder can be crawled');
        if (builder.supportsImages === true) return;
        const arch = builder.arches[0] ?? 'x86_64';
        await assert.rejects(builder.fetchImage({ distro: name, release: '6.1.0-1-test', arch }, { cacheDir: cacheRoot() }), NotSupportedError);
      });

      it('reports a release that no archive has as KernelNotFoundError, for every arch', async () => {
        for (const arch of builder.arches) {
          await assert.rejects(
            builder.fetchHeaders({ distro: name, release: '1.0.0-0-kbuild-nonexistent', arch }, { cacheDir: cacheRoot() }),
            (err: unknown) => err instanceof KernelNotFoundError && /not found/.test(err.message),
          );
        }
      });
    });
  }
});
