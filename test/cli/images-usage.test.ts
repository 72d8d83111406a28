import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kbuild } from '../helpers/cli.js';

describe('kbuild images build flags', () => {
  it('refuses two image sets at once with exit 2, before reaching the engine', async () => {
    for (const flags of [['--farm', '--kbuild'], ['--farm', '--distro', 'debian'], ['--kbuild', '--distro', 'debian']]) {
      const result = await kbuild(['images', 'build', ...flags]);
      assert.equal(result.exitCode, 2, `${flags.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /--kbuild, --farm and --distro build different images; give one/);
    }
  });
});
