/**
 * Slow: `kbuild build` end to end for RPM-family kernels: kernels.yaml names
 * a CentOS 8 (<5.5, relabelled real 5.10 headers, see
 * test/helpers/real-headers.ts) and a Fedora kernel whose kernel-devel RPMs
 * a local mirror serves (`mirrors.<distro>`); CO-RE BTF from a real Debian
 * kernel image. Proves the farm's plan → builder → compile → index path and
 * the loader's pick for a non-Debian distro.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex } from '@kbuild/loader';
import { serveMirror, type LocalMirror } from '../helpers/apt-mirror.js';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';
import { DEBIAN_5_10, DEBIAN_6_1, mergedTree } from '../helpers/real-headers.js';
import { buildDevelRpm, writeRpmRepo } from '../helpers/rpm-fixtures.js';

const CENTOS = '4.18.0-80.kbuild510.el8.x86_64';
const FEDORA = '6.1.0-50.kbuild.fc39.x86_64';

describe('kbuild build with CentOS and Fedora kernels from a local mirror (slow)', { timeout: 30 * 60_000 }, () => {
  let work = '';
  let mirror: LocalMirror;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-e2e-rpm-'));
    const old = await mergedTree(DEBIAN_5_10, {
      versionCode: 4 * 65536 + 18 * 256,
      note: 'kbuild test fixture: real Debian 5.10.0-32 headers presented as a 4.18 kernel (LINUX_VERSION_CODE rewritten); no <5.5 Debian suite is served here',
    });
    const centos = await buildDevelRpm({ release: CENTOS, version: '4.18.0', rel: '80.kbuild510.el8', tree: old, payload: 'xz' });
    const fedora = await buildDevelRpm({ release: FEDORA, version: '6.1.0', rel: '50.kbuild.fc39', tree: await mergedTree(DEBIAN_6_1), payload: 'zstd' });
    await writeRpmRepo(join(work, 'mirror', 'centos', '8.5.2111', 'AppStream', 'x86_64', 'os'), [centos], 'xz');
    await writeRpmRepo(join(work, 'mirror', 'fedora', 'updates', '39', 'Everything', 'x86_64'), [fedora], 'zstd');
    mirror = await serveMirror(work, undefined, 'mirror');
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(
      join(work, 'kernels.yaml'),
      `probes:
  - name: execve
    source: probes/execve/execve.bpf.c
core:
  btfFrom:
    x86_64: { distro: debian, release: 6.1.0-50-cloud-amd64 }
kernels:
  - { distro: centos, release: ${CENTOS}, arch: x86_64 }
  - { distro: fedora, release: ${FEDORA}, arch: x86_64 }
mirrors:
  centos: ${mirror.url}/centos
  fedora: ${mirror.url}/fedora
`,
    );
  });
  after(async () => {
    await mirror?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('builds both kernels (48-component walk below 5.5) and the loader picks each on its own distro', async () => {
    const out = join(work, 'out');
    // The shared cache root: the Debian kernel image for CO-RE is downloaded once per machine.
    const env = { PATH: process.env['PATH'] ?? '' };
    const result = await kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--out', out, '--json'], { env });
    assert.equal(result.exitCode, 0, result.stderr + result.stdout);
    const index = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
    const byPath = new Map(index.artifacts.map((a) => [a.path, a]));
    const centos = byPath.get(`execve/x86_64/execve_centos_${CENTOS}.o`);
    const fedora = byPath.get(`execve/x86_64/execve_fedora_${FEDORA}.o`);
    assert.ok(centos !== undefined && fedora !== undefined, [...byPath.keys()].join(', '));
    assert.ok(byPath.has('core/x86_64/execve.o'));
    assert.deepEqual(centos.buildConfig?.maxPathComponents, 48);
    assert.deepEqual(fedora.buildConfig?.maxPathComponents, 80);
    assert.deepEqual(centos.sources?.map((s) => `${s.name} ${s.version}`), ['kernel-devel 4.18.0-80.kbuild510.el8']);

    const picked = await kbuild(['pick', '--allow-unsigned', '--index', join(out, 'index.json'), '--distro', 'centos', '--release', CENTOS, '--arch', 'x86_64', '--btf', 'no', '--json']);
    assert.equal(picked.exitCode, 0, picked.stderr);
    assert.match(picked.stdout, new RegExp(`execve_centos_${CENTOS.replace(/\./g, '\\.')}\\.o`));
    const rocky = await kbuild(['pick', '--allow-unsigned', '--index', join(out, 'index.json'), '--distro', 'rocky', '--release', CENTOS, '--arch', 'x86_64', '--btf', 'no']);
    assert.equal(rocky.exitCode, 3, 'a Rocky host does not take the CentOS build of the same release string');
  });
});
