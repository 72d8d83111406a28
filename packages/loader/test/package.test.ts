import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? sources(join(dir, e.name)) : Promise.resolve(e.name.endsWith('.ts') ? [join(dir, e.name)] : []))));
  return nested.flat();
}

describe('@kbuild/loader package', () => {
  it('exports its error classes and codes', async () => {
    const loader = await import('@kbuild/loader');
    for (const name of ['KbuildError', 'IntegrityError', 'IndexFormatError', 'UnknownProbeError', 'NetworkError', 'ChecksumError', 'DiskError', 'S3UrlError']) {
      assert.equal(typeof (loader as Record<string, unknown>)[name], 'function', name);
    }
    assert.equal(loader.LoaderErrorCode.UNKNOWN_PROBE, 'E_UNKNOWN_PROBE');
    assert.equal(loader.LoaderErrorCode.UNSUPPORTED_KERNEL, 'E_UNSUPPORTED_KERNEL');
    assert.ok(new loader.UnknownProbeError('x', ['y']) instanceof loader.KbuildError);
    for (const name of ['readIndex', 'readIndexFile', 'pick', 'describePick', 'detectHost', 'fetchArtifact', 'fetchArtifacts', 'verifyIndexBytes']) {
      assert.equal(typeof (loader as Record<string, unknown>)[name], 'function', name);
    }
    // Unverified parsing is for the farm's own store, not an agent entry point.
    assert.equal((loader as Record<string, unknown>)['parseIndex'], undefined);
  });

  it('declares zod as its only dependency and the S3 SDK as an optional peer, imported lazily', async () => {
    const pkg = JSON.parse(await readFile(join(PACKAGE, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(pkg['dependencies'] ?? {}), ['zod']);
    assert.deepEqual(Object.keys(pkg['peerDependencies'] ?? {}), ['@aws-sdk/client-s3']);
    assert.deepEqual(pkg['peerDependenciesMeta'], { '@aws-sdk/client-s3': { optional: true } });
    // Static imports: Node built-ins, zod and the package's own files; the SDK only as `import type` or `await import(...)`.
    for (const file of await sources(join(PACKAGE, 'src'))) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/^import (type )?[^;]*? from '([^']+)';/gms)) {
        const [, typeOnly, spec = ''] = match;
        if (typeOnly !== undefined) continue;
        assert.ok(spec.startsWith('node:') || spec.startsWith('.') || spec === 'zod', `${file} imports ${spec} statically`);
      }
    }
  });
});
