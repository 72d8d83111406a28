import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex } from '../../src/loader/index-schema.js';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';
import { farmFixture, REDIS_URL } from '../helpers/farm.js';

// One real Debian kernel (cached by the other end-to-end tests) per kernels file; two files, two submissions.
const kernelsFile = (release: string): string =>
  `probes:\n  - { name: execve, source: probes/execve/execve.bpf.c }\nkernels:\n  - { distro: debian, release: ${release}, arch: x86_64 }\n`;

describe('farm publishing: signed with the worker key, merged across submissions (real Redis, slow)', { timeout: 15 * 60 * 1000 }, () => {
  let work: string;
  const farm = farmFixture();
  const submit = (q: string, kernels: string, store: string) =>
    kbuild(['submit', '--kernels', join(work, kernels), '--store', store, '--queue', q, '--redis', REDIS_URL, '--wait', '--json']);

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-farm-signing-'));
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'a.yaml'), kernelsFile('6.1.0-50-cloud-amd64'));
    await writeFile(join(work, 'b.yaml'), kernelsFile('6.12.117+deb13-cloud-amd64'));
    const keygen = await kbuild(['keygen', '--out', join(work, 'keys')]);
    assert.equal(keygen.exitCode, 0, keygen.stderr);
  });
  after(async () => {
    await farm.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('two submissions to one store: the index holds both, is signed by the worker key, and fetch verifies it', async () => {
    const q = farm.queue('signing');
    const store = join(work, 'store');
    await farm.worker(q, {}, ['--signing-key', join(work, 'keys/kbuild-index.key')]);
    for (const kernels of ['a.yaml', 'b.yaml']) {
      const result = await submit(q, kernels, store);
      assert.equal(result.exitCode, 0, result.stderr);
    }
    const index = ArtifactIndex.parse(JSON.parse(await readFile(join(store, 'index.json'), 'utf8')));
    const paths = index.artifacts.map((a) => a.path);
    for (const release of ['6.1.0-50-cloud-amd64', '6.12.117+deb13-cloud-amd64']) {
      assert.ok(paths.includes(`execve/x86_64/execve_debian_${release}.o`), `${release} is listed after both publishes:\n${paths.join('\n')}`);
    }
    const fetched = await kbuild([
      'fetch', '--index', store, '--dest', join(work, 'cache'), '--public-key', join(work, 'keys/kbuild-index.pub'),
      '--distro', 'debian', '--release', '6.1.0-50-cloud-amd64', '--arch', 'x86_64', '--btf', 'yes',
    ]);
    assert.equal(fetched.exitCode, 0, fetched.stderr);
    assert.match(fetched.stdout, /^execve object \S+\.o$/m);

    // A key that did not sign it is refused: the signature really is the worker's.
    await kbuild(['keygen', '--out', join(work, 'other-keys')]);
    const wrong = await kbuild(['fetch', '--index', store, '--dest', join(work, 'cache-wrong'), '--public-key', join(work, 'other-keys/kbuild-index.pub')]);
    assert.equal(wrong.exitCode, 4, wrong.stderr);
  });
});
