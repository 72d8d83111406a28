import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.js';
import { renderTemplate } from '../template/render.js';
import { buildConfig, conditionHolds, renderKbuildConfig, type KbuildConfig } from './build-config.js';

const code = (major: number, minor: number, patch: number): number => major * 65536 + minor * 256 + patch;

describe('buildConfig', () => {
  it('walks 48 path components below 5.5.0 and 80 from 5.5.0 on', () => {
    assert.equal(buildConfig('5.4.0-1-x', undefined, []).maxPathComponents, 48);
    assert.equal(buildConfig('5.5.0-1-x', undefined, []).maxPathComponents, 80);
    assert.equal(buildConfig('4.19.0-27-amd64', undefined, []).maxPathComponents, 48);
    assert.equal(buildConfig('6.1.0-50-cloud-amd64', undefined, []).maxPathComponents, 80);
  });

  it('derives the version code from the release, saturating the sublevel at 255', () => {
    assert.equal(buildConfig('4.19.0-27-amd64', undefined, []).versionCode, code(4, 19, 0));
    assert.equal(buildConfig('6.1.176', undefined, []).versionCode, code(6, 1, 176));
    assert.equal(buildConfig('4.9.337-1-x', undefined, []).versionCode, code(4, 9, 255));
    assert.equal(buildConfig('5.10.223-1-x', undefined, []).versionCode, code(5, 10, 223));
    assert.equal(buildConfig('4.14.256', undefined, []).versionCode, code(4, 14, 255));
  });

  it('prefers the override (the headers\' LINUX_VERSION_CODE) for the code and the walk size', () => {
    const config = buildConfig('5.4.0-1-x', code(5, 10, 255), []);
    assert.equal(config.versionCode, code(5, 10, 255));
    assert.equal(config.maxPathComponents, 80);
    assert.throws(() => buildConfig('5.4.0-1-x', -1, []), ConfigError);
    assert.throws(() => buildConfig('5.4.0-1-x', 1.5, []), ConfigError);
  });

  it('applies tweaks whose condition holds, later tweaks winning, first-seen order kept', () => {
    const tweaks = [
      { defines: { HAVE_FOO: 1, MODE: 'FAST' } },
      { when: '>=5.8', defines: { HAVE_RINGBUF: 1 } },
      { when: '<5.5', defines: { MAX_PATH_COMPONENTS: 32, MODE: 'SLOW' } },
    ];
    assert.deepEqual(buildConfig('6.1.0-1-x', undefined, tweaks), {
      release: '6.1.0-1-x',
      versionCode: code(6, 1, 0),
      maxPathComponents: 80,
      defines: [
        { name: 'HAVE_FOO', value: '1' },
        { name: 'MODE', value: 'FAST' },
        { name: 'HAVE_RINGBUF', value: '1' },
      ],
    });
    const old = buildConfig('4.19.0-1-x', undefined, tweaks);
    assert.equal(old.maxPathComponents, 32);
    assert.deepEqual(old.defines, [
      { name: 'HAVE_FOO', value: '1' },
      { name: 'MODE', value: 'SLOW' },
    ]);
  });

  it('evaluates every comparison operator', () => {
    const v = code(5, 8, 0);
    assert.deepEqual(
      ['<5.8', '<=5.8', '>5.8', '>=5.8', '==5.8', '== 5.8.0', '>= 5.7.99'].map((w) => conditionHolds(w, v)),
      [false, true, false, true, true, true, true],
    );
    for (const bad of ['5.8', '=>5.8', '>=5', '>=5.8 && <6', '!=5.8', '']) {
      assert.throws(() => conditionHolds(bad, v), ConfigError, bad);
    }
  });

  it('rejects hostile or malformed define names', () => {
    for (const name of ['lower', 'A-B', '1ABC', 'X Y', 'X\n#include "/etc/passwd"', '', 'É']) {
      assert.throws(() => buildConfig('6.1.0-1-x', undefined, [{ defines: { [name]: 1 } }]), ConfigError, name);
    }
  });

  it('rejects hostile or malformed define values', () => {
    const values: (string | number)[] = ['1; system()', '"str"', '0x10', 'a b', '1\n#define Y 2', '', '1/*', NaN, 1.5, 2 ** 60];
    for (const value of values) {
      assert.throws(() => buildConfig('6.1.0-1-x', undefined, [{ defines: { X: value } }]), ConfigError, String(value));
    }
    assert.deepEqual(buildConfig('6.1.0-1-x', undefined, [{ defines: { X: '-12', Y: 'Some_Ident9' } }]).defines, [
      { name: 'X', value: '-12' },
      { name: 'Y', value: 'Some_Ident9' },
    ]);
  });

  it('rejects names kbuild defines itself and walk sizes out of range', () => {
    for (const name of ['KBUILD_RELEASE', 'KBUILD_LINUX_VERSION_CODE', 'KBUILD_CONFIG_H']) {
      assert.throws(() => buildConfig('6.1.0-1-x', undefined, [{ defines: { [name]: 1 } }]), ConfigError, name);
    }
    for (const walk of [0, -3, 4096, 'EIGHTY']) {
      assert.throws(() => buildConfig('6.1.0-1-x', undefined, [{ defines: { MAX_PATH_COMPONENTS: walk } }]), ConfigError);
    }
  });

  it('rejects releases that are not kernel releases', () => {
    for (const release of ['../etc', 'latest', '6.1/../../x', '6.1.0 "x"']) {
      assert.throws(() => buildConfig(release, undefined, []), ConfigError, release);
    }
  });
});

describe('renderKbuildConfig', () => {
  it('renders the release, version code, walk size and tweaks as C defines', async () => {
    const text = await renderKbuildConfig(buildConfig('6.1.0-50-cloud-amd64', 393648, [{ defines: { HAVE_X: 1 } }]));
    assert.match(text, /^#define KBUILD_RELEASE "6\.1\.0-50-cloud-amd64"$/m);
    assert.match(text, /^#define KBUILD_LINUX_VERSION_CODE 393648$/m);
    assert.match(text, /^#define MAX_PATH_COMPONENTS 80$/m);
    assert.match(text, /^#define HAVE_X 1$/m);
    assert.equal(text.match(/^#define /gm)?.length, 5, 'guard, release, version, walk, HAVE_X');
  });

  it('re-validates a configuration that did not come from buildConfig', async () => {
    const base: KbuildConfig = { release: '6.1.0-1-x', versionCode: 1, maxPathComponents: 80, defines: [] };
    await assert.rejects(renderKbuildConfig({ ...base, defines: [{ name: 'X', value: '1\n#include <x>' }] }), ConfigError);
    await assert.rejects(renderKbuildConfig({ ...base, defines: [{ name: 'x', value: '1' }] }), ConfigError);
    await assert.rejects(renderKbuildConfig({ ...base, release: '6.1"\n#x' }), ConfigError);
    await assert.rejects(renderKbuildConfig({ ...base, maxPathComponents: 1.5 }), ConfigError);
  });
});

describe('renderTemplate', () => {
  it('refuses line breaks in any value and template names that leave templates/', async () => {
    const context = { release: '6.1', versionCode: 1, maxPathComponents: 1, defines: [{ name: 'A', value: 'x\ry' }] };
    await assert.rejects(renderTemplate('kbuild-config.h', context), ConfigError);
    await assert.rejects(renderTemplate('../package.json', {}), /invalid template name/);
  });

  it('fails on a missing field instead of rendering an empty one', async () => {
    await assert.rejects(renderTemplate('kbuild-config.h', { release: '6.1', defines: [] }), /versionCode/);
  });
});
