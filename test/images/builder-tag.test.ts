import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { builderTag } from '../../src/images/builder-image.js';
import { IMAGE_SPECS, imageSpec, readDockerfile } from '../../src/images/specs.js';
import { knownDistros } from '../../src/config/known-distros.js';
import { ImageError } from '../../src/errors.js';
import { REPO_ROOT } from '../helpers/cli.js';

describe('builder image names', () => {
  it('the tag changes when the Dockerfile or the base changes, and only then', async () => {
    const dockerfile = await readDockerfile('debian');
    assert.equal(dockerfile, await readFile(join(REPO_ROOT, 'images/debian/Dockerfile'), 'utf8'));
    const base = `sha256:${'a'.repeat(64)}`;
    const tag = builderTag(dockerfile, base);
    assert.match(tag, /^[0-9a-f]{16}$/);
    assert.equal(builderTag(dockerfile, base), tag);
    assert.notEqual(builderTag(`${dockerfile}RUN true\n`, base), tag);
    assert.notEqual(builderTag(dockerfile, `sha256:${'b'.repeat(64)}`), tag);
  });

  it('every image belongs to a registered distro builder, and its Dockerfile installs the toolchain', async () => {
    for (const distro of Object.keys(IMAGE_SPECS)) {
      assert.ok(knownDistros().includes(distro), distro);
      const text = await readDockerfile(distro);
      for (const pkg of ['clang', 'llvm', 'libbpf-dev', 'bpftool', 'dwarves']) assert.match(text, new RegExp(`\\b${pkg}\\b`), `${distro}: ${pkg}`);
      assert.match(text, /^USER [1-9][0-9]*$/m, 'a non-root user');
    }
    assert.throws(() => imageSpec('nonesuch'), ImageError);
  });
});
