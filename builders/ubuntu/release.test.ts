import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KernelNotFoundError } from '../../src/errors.js';
import { buildNumber, parseUbuntuRelease, suitesFor, wantedBuild } from './release.js';

describe('ubuntu releases', () => {
  it('splits releases of every flavour into ABI and flavour', () => {
    assert.deepEqual(parseUbuntuRelease('5.15.0-91-generic'), { release: '5.15.0-91-generic', upstream: '5.15.0', abi: '5.15.0-91', flavour: 'generic', majorMinor: '5.15' });
    assert.equal(parseUbuntuRelease('5.15.0-1050-aws').abi, '5.15.0-1050');
    assert.equal(parseUbuntuRelease('6.8.0-49-generic-64k').flavour, 'generic-64k');
    assert.throws(() => parseUbuntuRelease('6.1.0-50-amd64+x'), KernelNotFoundError);
    assert.throws(() => parseUbuntuRelease('4.18.0-553.el8_10.x86_64'), /not an Ubuntu kernel release/);
  });

  it('reads the build number uname -v prints from the package version, and from kernels.yaml', () => {
    assert.equal(buildNumber('5.15.0-91.101'), '101');
    assert.equal(buildNumber('6.8.0-49.49~22.04.1'), '49');
    assert.equal(buildNumber('1.2'), undefined);
    assert.equal(wantedBuild('#94-Ubuntu SMP Fri Sep 13 ...'), '94');
    assert.equal(wantedBuild('101'), '101');
    assert.equal(wantedBuild(undefined), undefined);
  });

  it('searches the series that ship a kernel version, newest pocket first', () => {
    assert.deepEqual(suitesFor(parseUbuntuRelease('6.8.0-49-generic'), undefined), [
      'noble-updates', 'noble-security', 'noble', 'jammy-updates', 'jammy-security', 'jammy',
    ]);
    assert.deepEqual(suitesFor(parseUbuntuRelease('5.10.0-32-generic'), ['jammy']), ['jammy-updates', 'jammy-security', 'jammy']);
    assert.throws(() => suitesFor(parseUbuntuRelease('5.10.0-32-generic'), undefined), (err: unknown) => {
      assert.ok(err instanceof KernelNotFoundError);
      assert.match(err.message, /^kernel 5\.10\.0-32-generic not found: no Ubuntu series is known to ship Linux 5\.10$/);
      assert.ok(err.suggestions.some((s) => s.includes('KBUILD_UBUNTU_SERIES')));
      return true;
    });
  });
});
