import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

describe('package exports', () => {
  it('serves the loader library as kbuild/loader, without the farm', async () => {
    const loader = await import('kbuild/loader');
    assert.equal(typeof loader.pick, 'function');
    assert.equal(typeof loader.detectHost, 'function');
    assert.equal(typeof loader.readIndexFile, 'function');
    assert.equal(typeof loader.fetchArtifact, 'function');
    assert.equal(typeof loader.fetchArtifacts, 'function');
    const host = await loader.detectHost();
    assert.ok(['x86_64', 'arm64'].includes(host.arch));
  });
});
