import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArtifactIndex } from '@kbuild/loader';
import { kernelKey } from '../../src/report/kernels.js';
import { loadability, loadKey } from '../../src/report/loadable.js';
import { buildMatrix } from '../../src/report/matrix.js';
import { storeHref } from '../../src/report/format.js';
import { fixtureIndex, KERNELS } from './report-fixtures.js';

const of = (index: ArtifactIndex) => loadability(index, buildMatrix(index));

describe('report loadability (the loader pick per kernel and probe)', () => {
  it('follows the pick order: exact non-CO-RE, else CO-RE with kernel BTF, else with external BTF', () => {
    const { choices, unloadable } = of(fixtureIndex());
    assert.deepEqual(unloadable, []);
    assert.equal(choices.get(loadKey(KERNELS.bookworm, 'execve')), 'non-core');
    assert.equal(choices.get(loadKey(KERNELS.trixie, 'opensnoop')), 'core', 'its non-CO-RE build failed; the kernel has BTF');
    assert.equal(choices.get(loadKey(KERNELS.jammy, 'opensnoop')), 'core', 'its non-CO-RE object failed QEMU there');
  });

  it('takes the external BTF for a kernel without BTF, and lists the kernel once nothing is left', () => {
    const index = fixtureIndex();
    const bullseye = kernelKey(KERNELS.bullseye);
    const withoutNonCore = { ...index, artifacts: index.artifacts.filter((a) => a.kind === 'core' || kernelKey(a.kernel) !== bullseye) };
    assert.equal(of(withoutNonCore).choices.get(loadKey(KERNELS.bullseye, 'execve')), 'core+external-btf');
    const noBtfEither = { ...withoutNonCore, kernelBtf: withoutNonCore.kernelBtf.map((k) => ({ ...k, objects: k.objects.filter((o) => o.probe !== 'execve') })) };
    const { unloadable } = of(noBtfEither);
    assert.deepEqual(unloadable.map((u) => [kernelKey(u.kernel), u.probes]), [[bullseye, ['execve']]]);
    assert.match(unloadable[0]?.reasons[0] ?? '', /external BTF/);
  });

  it('a probe that built nowhere leaves every kernel with nothing for it (no E_UNKNOWN_PROBE)', () => {
    const index = fixtureIndex();
    const failure = index.failures[0];
    assert.ok(failure);
    const { unloadable } = of({ ...index, failures: [...index.failures, { ...failure, probe: 'ghost' }] });
    assert.equal(unloadable.length, Object.keys(KERNELS).length);
    assert.ok(unloadable.every((u) => u.probes.join() === 'ghost'));
  });
});

describe('storeHref', () => {
  it('links store keys relatively and refuses anything else', () => {
    assert.equal(storeHref('core/x86_64/execve.o'), 'core/x86_64/execve.o');
    assert.equal(storeHref('a/b+c~d.o'), 'a/b+c~d.o');
    for (const bad of ['javascript:alert(1)', '/etc/passwd', '//evil/x', 'a/../b', 'https://x/y', '']) assert.equal(storeHref(bad), '', bad);
  });
});
