import assert from 'node:assert/strict';
import { mkdir, mkdtemp, copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { detectHost, distroFromKernel } from '../src/host.js';
import { ArtifactIndex } from '../src/index-schema.js';
import { pick } from '../src/pick.js';

const SAMPLES = fileURLToPath(new URL('./os-release', import.meta.url));

/** Real os-release files of each distro, with a kernel of that distro as uname -r / uname -v print it. */
const HOSTS = [
  ['ubuntu-22.04', '5.15.0-91-generic', '#101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023', 'ubuntu'],
  ['debian-12', '6.1.0-50-amd64', '#1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1 (2025-10-26)', 'debian'],
  ['centos-7', '3.10.0-1160.119.1.el7.x86_64', '#1 SMP Tue Jun 4 14:43:51 UTC 2024', 'centos'],
  ['rhel-9.4', '5.14.0-427.13.1.el9_4.x86_64', '#1 SMP PREEMPT_DYNAMIC Wed Apr 10 10:29:16 EDT 2024', 'rhel'],
  ['rocky-9.4', '5.14.0-427.13.1.el9_4.x86_64', '#1 SMP PREEMPT_DYNAMIC Wed May 1 19:11:28 UTC 2024', 'rocky'],
  ['almalinux-8.10', '4.18.0-553.el8_10.x86_64', '#1 SMP Fri May 24 13:05:10 EDT 2024', 'almalinux'],
  ['fedora-41', '6.11.4-301.fc41.x86_64', '#1 SMP PREEMPT_DYNAMIC Sun Oct 20 15:02:33 UTC 2024', 'fedora'],
  ['amzn-2', '5.10.228-219.884.amzn2.x86_64', '#1 SMP Wed Oct 23 17:17:00 UTC 2024', 'amzn'],
  ['amzn-2023', '6.1.115-126.197.amzn2023.x86_64', '#1 SMP PREEMPT_DYNAMIC Tue Nov 5 17:36:57 UTC 2024', 'amzn'],
  // A derivative running Ubuntu's kernel: ID_LIKE and uname -v both say ubuntu.
  ['pop-22.04', '6.9.3-76060903-generic', '#202405300957~1726766035~22.04~4092a0e-Ubuntu SMP', 'ubuntu'],
] as const;

describe('host identity', () => {
  const roots: string[] = [];
  after(async () => {
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });
  const hostRoot = async (sample: string): Promise<string> => {
    const root = await mkdtemp(join(tmpdir(), 'kbuild-host-'));
    roots.push(root);
    await mkdir(join(root, 'etc'));
    await copyFile(join(SAMPLES, sample), join(root, 'etc', 'os-release'));
    return root;
  };

  for (const [sample, release, version, distro] of HOSTS) {
    it(`maps ${sample} (${release}) to "${distro}"`, async () => {
      const host = await detectHost({ release, version, arch: 'x86_64', hasBtf: true }, { KBUILD_HOST_ROOT: await hostRoot(sample) });
      assert.equal(host.distro, distro);
      assert.equal(host.version, version);
    });
  }

  it('trusts an unambiguous kernel over a container\'s os-release', async () => {
    // An agent image built FROM debian, running on an Ubuntu host without the host's /etc mounted.
    const host = await detectHost({ release: '5.15.0-91-generic', version: '#101-Ubuntu SMP', arch: 'x86_64', hasBtf: true }, { KBUILD_HOST_ROOT: await hostRoot('debian-12') });
    assert.equal(host.distro, 'ubuntu');
    assert.equal(distroFromKernel('4.18.0-553.el8_10.x86_64', '#1 SMP'), undefined, 'an el kernel does not say which rebuild it is');
    assert.equal(distroFromKernel('6.1.0-50-amd64', '#1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1'), 'debian');
  });

  it("lets an Ubuntu host find its _ubuntu_ artifact by build number, and refuses another build's", async () => {
    const index = ArtifactIndex.parse({
      schemaVersion: 1, generatedAt: '2026-11-25T00:00:00Z', generator: 'test',
      artifacts: [{
        path: 'execve/x86_64/execve_ubuntu_5.15.0-91-generic.o', probe: 'execve', kind: 'non-core', arch: 'x86_64',
        kernel: { distro: 'ubuntu', release: '5.15.0-91-generic', arch: 'x86_64', version: '101' },
        size: 1, sha256: 'a'.repeat(64), buildId: 'b'.repeat(64), toolchain: 'clang', verification: [],
      }],
    });
    const root = await hostRoot('ubuntu-22.04');
    const host = await detectHost({ release: '5.15.0-91-generic', version: '#101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023', arch: 'x86_64', hasBtf: false }, { KBUILD_HOST_ROOT: root });
    assert.equal(pick(index, host, 'execve').choice?.artifact.path, 'execve/x86_64/execve_ubuntu_5.15.0-91-generic.o');
    const other = await detectHost({ release: '5.15.0-91-generic', version: '#94-Ubuntu SMP', arch: 'x86_64', hasBtf: false }, { KBUILD_HOST_ROOT: root });
    const result = pick(index, other, 'execve');
    assert.equal(result.choice, undefined);
    assert.match(result.rejected[0]?.reason ?? '', /built for kernel version "101", host's uname -v is "#94-Ubuntu SMP"/);
  });
});
