import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { loadKernelsFile, parseKernelsFile } from '../../src/config/load-kernels-file.js';

const GOOD = `probes:
  - name: execve
    source: probes/execve/execve.bpf.c
kernels:
  - { distro: debian, release: 6.1.0-50-amd64, arch: x86_64 }
  - distro: debian
    release: 6.1.0-50-arm64
    arch: arm64
`;

function errorOf(text: string): ConfigError {
  try {
    parseKernelsFile(text, 'k.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the kernels file to be rejected');
}

describe('kernels file', () => {
  it('accepts a valid file and fills defaults', () => {
    const { config, warnings } = parseKernelsFile(GOOD, 'k.yaml');
    assert.equal(config.kernels.length, 2);
    assert.deepEqual(config.probes[0]?.tweaks, []);
    assert.equal(warnings.length, 2, 'both arches lack core.btfFrom');
  });

  it('notes a missing core.btfFrom only where a CO-RE build takes kbuild\'s vmlinux.h', () => {
    const own = (vmlinux: string, builds = '[core]'): readonly string[] =>
      parseKernelsFile(GOOD.replace('    source: probes/execve/execve.bpf.c', `    source: probes/execve/execve.bpf.c\n    builds: ${builds}\n    vmlinux: ${vmlinux}`), 'k.yaml').warnings;
    assert.deepEqual(own('probes/execve/vmlinux.h'), [], 'the project ships its vmlinux.h');
    assert.deepEqual(own('kbuild', '[non-core]'), [], 'no CO-RE build');
    assert.deepEqual(own('{ x86_64: probes/execve/vmlinux.h }'), ['core.btfFrom.arm64 not set: vmlinux.h comes from debian 6.1.0-50-arm64']);
  });

  it('reports malformed YAML with file, line and column', () => {
    const err = errorOf('probes:\n  - name: [unclosed\n');
    assert.match(err.message, /^k\.yaml:\d+:\d+: malformed YAML/);
    assert.equal(err.exitCode, 2);
  });

  it('reports an unknown field with its line and name', () => {
    const err = errorOf(GOOD.replace('    arch: arm64', '    arch: arm64\n    flavor: cloud'));
    assert.match(err.message, /k\.yaml:6: kernels\[1\]: unknown field "flavor"/);
  });

  it('reports an unknown distro with the known ones', () => {
    const err = errorOf(GOOD.replace('distro: debian, release: 6.1.0-50-amd64', 'distro: slackware, release: 6.1.0-50-amd64'));
    assert.match(err.message, /k\.yaml:5: kernels\[0\]\.distro: unknown distro "slackware", expected one of: almalinux, amzn, centos, debian, fedora, rhel, rocky, ubuntu$/m);
  });

  for (const [label, release] of [
    ['a slash', '6.1.0/../../etc'],
    ['dot-dot', '6.1.0-50..amd64'],
    ['a leading dot-dot', '../6.1.0'],
    ['a space', '6.1.0 amd64'],
  ] as const) {
    it(`rejects a release with ${label}`, () => {
      const err = errorOf(GOOD.replace('release: 6.1.0-50-amd64', `release: "${release}"`));
      assert.match(err.message, /k\.yaml:5: kernels\[0\]\.release: release /);
    });
  }

  it('rejects an arch outside x86_64/arm64 and names the expected values', () => {
    const err = errorOf(GOOD.replace('arch: x86_64', 'arch: ppc64le'));
    assert.match(err.message, /kernels\[0\]\.arch: .*"x86_64"\|"arm64"/);
  });

  it('rejects a missing required field at the parent line', () => {
    const err = errorOf(GOOD.replace('    release: 6.1.0-50-arm64\n', ''));
    assert.match(err.message, /k\.yaml:6: kernels\[1\]\.release: required field is missing/);
  });

  it('rejects probe sources that leave the kernels file folder and hostile define names', () => {
    let err = errorOf(GOOD.replace('source: probes/execve/execve.bpf.c', 'source: probes/../../x.c'));
    assert.match(err.message, /probes\[0\]\.source: .*leaves the kernels file's folder/);
    err = errorOf(GOOD.replace('source: probes/execve/execve.bpf.c', 'source: p.c\n    tweaks: [{ defines: { "X\\n#include </etc/passwd>": 1 } }]'));
    assert.match(err.message, /probes\[0\]\.tweaks\[0\]\.defines/);
  });

  it('a number where a string is expected says so, with the quoted form (not "missing")', () => {
    const err = errorOf(GOOD.replace('release: 6.1.0-50-arm64', 'release: 6.1'));
    assert.match(err.message, /kernels\[1\]\.release: expected string, got number 6\.1 \(quote it: "6\.1"\)/);
  });

  it('refuses alias bombs ("billion laughs") as bad input', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) {
      const prev = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const err = errorOf(`${levels.join('\n')}\nprobes: *g\n`);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /refusing the YAML/);
  });

  it('rejects duplicate kernels', () => {
    const err = errorOf(GOOD.replace('release: 6.1.0-50-arm64\n    arch: arm64', 'release: 6.1.0-50-amd64\n    arch: x86_64'));
    assert.match(err.message, /kernels\[1\]: duplicate of kernels\[0\]/);
  });

  it('names the file when it cannot be read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kbuild-cfg-'));
    await assert.rejects(loadKernelsFile(join(dir, 'missing.yaml')), /missing\.yaml: cannot read the kernels file \(ENOENT\)/);
    await mkdir(join(dir, 'p'));
    await writeFile(join(dir, 'k.yaml'), GOOD);
    const loaded = await loadKernelsFile(join(dir, 'k.yaml'));
    assert.equal(loaded.baseDir, dir);
  });

  it('reads btf per kernel (default auto) and the BTF sources, and rejects bad values at their line', () => {
    const text = GOOD.replace('arch: x86_64 }', 'arch: x86_64, btf: false, distroVersion: "12" }') + 'btf:\n  sources: [dbg, archive]\n  archive: /srv/btfhub\n';
    const { config } = parseKernelsFile(text, 'k.yaml');
    assert.equal(config.kernels[0]?.btf, false);
    assert.equal(config.kernels[1]?.btf, 'auto');
    assert.deepEqual(config.btf, { sources: ['dbg', 'archive'], archive: '/srv/btfhub' });
    assert.match(errorOf(GOOD.replace('arch: x86_64 }', 'arch: x86_64, btf: maybe }')).message, /k\.yaml:5: kernels\[0\]\.btf: /);
    let err = errorOf(`${GOOD}btf:\n  sources: [image, pahole]\n`);
    assert.match(err.message, /k\.yaml:10: btf\.sources\[1\]: .*"image"\|"dbg"\|"archive"/);
    err = errorOf(`${GOOD}btf:\n  archive: relative/folder\n`);
    assert.match(err.message, /k\.yaml:10: btf\.archive: .*absolute folder path or an http\(s\) URL/);
    err = errorOf(`${GOOD}btf:\n  sources: [image, image]\n`);
    assert.match(err.message, /btf\.sources: lists a source twice/);
    err = errorOf(GOOD.replace('arch: x86_64 }', 'arch: x86_64, distroVersion: "../x" }'));
    assert.match(err.message, /kernels\[0\]\.distroVersion: a distro version/);
  });

  it('parses the shipped kernels.yaml', async () => {
    const loaded = await loadKernelsFile('kernels.yaml');
    assert.ok(loaded.config.kernels.length >= 4);
    const arches = new Set(loaded.config.kernels.map((k) => k.arch));
    assert.deepEqual([...arches].sort(), ['arm64', 'x86_64']);
    assert.ok(loaded.config.kernels.some((k) => k.btf === false), 'one shipped kernel exercises external BTF');
  });
});
