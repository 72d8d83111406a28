import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadedKernelsFile } from '../config/load-kernels-file.js';
import { ArtifactIndex } from '@kbuild/loader';
import { flavourOf } from '../crawl/crawl-kernels.js';
import { kernelsToBuild, syncKernelSet, type SyncKernel } from './new-kernels.js';

const crawled = (release: string, arch: 'x86_64' | 'arm64' = 'x86_64'): SyncKernel => ({ distro: 'debian', release, arch, packageVersion: '1', source: 'bookworm' });
const kernel = (release: string) => ({ distro: 'debian', release, arch: 'x86_64' as const });
const sha = 'a'.repeat(64);
const artifact = (probe: string, release: string, kind: 'non-core' | 'core' = 'non-core') => ({
  path: kind === 'core' ? `core/x86_64/${probe}.o` : `${probe}/x86_64/${probe}_debian_${release}.o`,
  probe, kind, arch: 'x86_64', kernel: kernel(release), size: 1, sha256: sha, buildId: sha, toolchain: 'clang', verification: [],
});
const index = (artifacts: unknown[], failures: unknown[] = []) =>
  ArtifactIndex.parse({ schemaVersion: 3, generatedAt: 'now', generator: 'test', artifacts, failures });

describe('kbuild sync: which kernels are new', () => {
  it('keeps the kernels that lack an object (or a build failure) of some per-kernel probe, each once', () => {
    const held = index(
      [artifact('a', '6.1.0-1-amd64'), artifact('b', '6.1.0-1-amd64'), artifact('a', '6.1.0-2-amd64'), artifact('a', '6.1.0-9-amd64', 'core')],
      [{ probe: 'b', kind: 'non-core', arch: 'x86_64', kernel: kernel('6.1.0-3-amd64'), code: 'E_BUILD', message: 'x' },
       { probe: 'a', kind: 'non-core', arch: 'x86_64', kernel: kernel('6.1.0-3-amd64'), code: 'E_BUILD', message: 'x' }],
    );
    const all = ['6.1.0-1-amd64', '6.1.0-2-amd64', '6.1.0-3-amd64', '6.1.0-4-amd64', '6.1.0-4-amd64'].map((r) => crawled(r));
    assert.deepEqual(kernelsToBuild(all, held, ['a', 'b']).map((k) => k.release), ['6.1.0-2-amd64', '6.1.0-4-amd64']);
    assert.deepEqual(kernelsToBuild(all, undefined, ['a']).map((k) => k.release), ['6.1.0-1-amd64', '6.1.0-2-amd64', '6.1.0-3-amd64', '6.1.0-4-amd64']);
    assert.deepEqual(kernelsToBuild([crawled('6.1.0-1-amd64', 'arm64')], held, ['a']).length, 1, 'another arch is another kernel');
  });

  it('pins each arch\'s CO-RE vmlinux.h: btfFrom, else the file\'s first kernel of the arch, else the stored CO-RE object\'s', () => {
    const loaded = {
      path: 'k.yaml', baseDir: '/', warnings: ['x'], locate: () => '',
      config: { probes: [], kernels: [{ distro: 'debian', release: '6.1.0-1-amd64', arch: 'x86_64', btf: 'auto' }] },
    } as unknown as LoadedKernelsFile;
    const stored = index([{ ...artifact('a', '6.1.0-8-arm64', 'core'), arch: 'arm64', path: 'core/arm64/a.o', kernel: { ...kernel('6.1.0-8-arm64'), arch: 'arm64' } }]);
    const set = syncKernelSet(loaded, [crawled('6.1.0-5-amd64'), crawled('6.1.0-5-arm64', 'arm64')], stored);
    assert.deepEqual(set.config.kernels.map((k) => k.release), ['6.1.0-5-amd64', '6.1.0-5-arm64']);
    assert.deepEqual(set.config.core?.btfFrom, { x86_64: { distro: 'debian', release: '6.1.0-1-amd64' }, arm64: { distro: 'debian', release: '6.1.0-8-arm64' } });
  });

  it('reads the flavour after the version and ABI', () => {
    assert.equal(flavourOf('6.1.0-57-cloud-amd64'), 'cloud-amd64');
    assert.equal(flavourOf('6.12.95+deb12-rt-arm64'), 'rt-arm64');
    assert.equal(flavourOf('6.1.0-0.deb11.47-amd64'), 'amd64');
    assert.equal(flavourOf('7.2.13+deb14-arm64-16k'), 'arm64-16k');
    assert.equal(flavourOf('5.15.0-1050-aws'), 'aws');
    assert.equal(flavourOf('4.18.0-553.el8_10.x86_64'), undefined);
  });
});
