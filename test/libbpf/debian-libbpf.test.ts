import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { libbpfHeaders, libbpfVersionMatches } from '../../src/libbpf/debian-libbpf.js';
import { PackageNotFoundError } from '../../src/repo/apt/errors.js';

/**
 * Slow: reads the Packages indexes of the host's Debian mirror (signed) and
 * downloads libbpf-dev packages into the real cache root, so later runs
 * reuse them.
 */

describe('libbpf-dev version matching', () => {
  it('accepts a Debian version with or without epoch, or the upstream version', () => {
    assert.ok(libbpfVersionMatches('1:1.5.0-3', '1:1.5.0-3'));
    assert.ok(libbpfVersionMatches('1:1.5.0-3', '1.5.0-3'));
    assert.ok(libbpfVersionMatches('1:1.5.0-3', '1.5.0'));
    assert.ok(!libbpfVersionMatches('1:1.5.0-3', '1.5.0-1'));
    assert.ok(!libbpfVersionMatches('1:1.5.0-3', '2:1.5.0-3'));
    assert.ok(!libbpfVersionMatches('1:1.5.0-3', '1.5'));
  });
});

describe('libbpf headers from Debian (slow: network)', { timeout: 600_000 }, () => {
  const options = { cacheDir: cacheRoot() };

  it('fetches 1.5.0, whose bpf_helpers.h has what 1.1 lacks', async () => {
    const headers = await libbpfHeaders({ version: '1.5.0', arch: 'arm64' }, options);
    assert.match(headers.package.version, /^1:1\.5\.0-/);
    assert.equal(headers.package.name, 'libbpf-dev');
    const helpers = await readFile(join(headers.dir, 'bpf', 'bpf_helpers.h'), 'utf8');
    // Both arrived in libbpf 1.3/1.4: programs using them fail on Debian 12's 1.1 headers.
    assert.match(helpers, /bpf_ksym_exists/);
    assert.match(helpers, /__arg_ctx/);
    await readFile(join(headers.dir, 'bpf', 'bpf_core_read.h'));

    const old = await libbpfHeaders({ version: '1.1.2' }, options);
    const oldHelpers = await readFile(join(old.dir, 'bpf', 'bpf_helpers.h'), 'utf8');
    assert.doesNotMatch(oldHelpers, /__arg_ctx/);
  });

  it('names the versions that exist when none matches', async () => {
    await assert.rejects(libbpfHeaders({ version: '0.0.7-1' }, options), (err: unknown) => {
      assert.ok(err instanceof PackageNotFoundError);
      assert.match(err.message, /no Debian libbpf-dev 0\.0\.7-1/);
      assert.match(err.message, /1:1\.5\.0-3 \(trixie\)/);
      assert.ok(err.available.length >= 2);
      return true;
    });
  });
});
