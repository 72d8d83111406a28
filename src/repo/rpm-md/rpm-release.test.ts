import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KernelNotFoundError } from '../../errors.js';
import { parseRpmRelease } from './rpm-release.js';

describe('rpm kernel releases', () => {
  it('reads version, release, arch and dist tag of each distro family', () => {
    assert.deepEqual(parseRpmRelease('4.18.0-553.el8_10.x86_64', 'x86_64', 'rocky'), {
      release: '4.18.0-553.el8_10.x86_64', version: '4.18.0', rel: '553.el8_10', rpmArch: 'x86_64', majorMinor: '4.18', dist: { kind: 'el', major: 8, minor: 10 },
    });
    assert.deepEqual(parseRpmRelease('3.10.0-1160.119.1.el7.x86_64', 'x86_64', 'centos').dist, { kind: 'el', major: 7 });
    assert.deepEqual(parseRpmRelease('5.14.0-427.13.1.el9_4.aarch64', 'arm64', 'rhel').dist, { kind: 'el', major: 9, minor: 4 });
    assert.deepEqual(parseRpmRelease('6.11.4-301.fc41.x86_64', 'x86_64', 'fedora').dist, { kind: 'fc', major: 41 });
    assert.deepEqual(parseRpmRelease('5.10.228-219.884.amzn2.x86_64', 'x86_64', 'amzn').dist, { kind: 'amzn', major: 2 });
    assert.deepEqual(parseRpmRelease('6.1.115-126.197.amzn2023.x86_64', 'x86_64', 'amzn').dist, { kind: 'amzn', major: 2023 });
  });

  it('says "not found" for another arch or a non-RPM release', () => {
    assert.throws(() => parseRpmRelease('4.18.0-553.el8_10.x86_64', 'arm64', 'rocky'), /its release names arch x86_64/);
    assert.throws(() => parseRpmRelease('6.1.0-50-amd64', 'x86_64', 'centos'), KernelNotFoundError);
  });
});
