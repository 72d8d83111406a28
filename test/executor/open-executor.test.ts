import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadKernelsFile, parseKernelsFile } from '../../src/config/load-kernels-file.js';
import { ConfigError } from '../../src/errors.js';
import { executorKindFor, openExecutors } from '../../src/executor/open-executor.js';
import { planBuild } from '../../src/job/plan.js';
import { jobLabel } from '../../src/job/types.js';
import { createLogger } from '../../src/log.js';
import { REPO_ROOT } from '../helpers/cli.js';

const KERNELS = `probes:
  - { name: execve, source: probes/execve/execve.bpf.c }
executors:
  debian: docker
core:
  btfFrom:
    x86_64: { distro: debian, release: 6.1.0-50-cloud-amd64 }
kernels:
  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64, btf: true }
  - { distro: debian, release: 6.12.117+deb13-cloud-amd64, arch: x86_64, executor: local, btf: true }
`;

describe('executor choice: kernels.yaml entry, per-distro default, --executor', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kbuild-exec-choice-'));
    await cp(join(REPO_ROOT, 'probes'), join(dir, 'probes'), { recursive: true });
    await writeFile(join(dir, 'kernels.yaml'), KERNELS);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('the planner copies each kernel\'s choice into its jobs, so queued jobs carry it', async () => {
    const plan = await planBuild(await loadKernelsFile(join(dir, 'kernels.yaml')));
    const chosen = Object.fromEntries(plan.jobs.map((j) => [jobLabel(j), executorKindFor(j)]));
    assert.deepEqual(chosen, {
      'execve CO-RE x86_64': 'docker',
      'execve debian 6.1.0-50-cloud-amd64 x86_64': 'docker',
      'execve debian 6.12.117+deb13-cloud-amd64 x86_64': 'local',
    });
    const [core, docker, local] = plan.jobs;
    assert.ok(core !== undefined && docker?.kind === 'non-core' && local !== undefined);
    assert.equal(executorKindFor(docker), 'docker');
    assert.equal(executorKindFor(local), 'local');
    assert.equal(executorKindFor(docker, 'local'), 'local', '--executor overrides the file');
    assert.equal(executorKindFor(local, 'docker'), 'docker');
    const { executor: _, ...unchosen } = docker;
    assert.equal(executorKindFor(unchosen), 'local', 'nothing chosen: local');
    // Local jobs never touch Docker, even when no engine answers.
    const executors = openExecutors({ log: createLogger('silent') });
    assert.equal(await executors.executorFor(local), executors.local);
    await executors.prepare([local]);
    await executors.close();
  });

  it('a bad executor is a schema error with file, line and field', () => {
    const bad = KERNELS.replace('executor: local', 'executor: podman');
    assert.throws(() => parseKernelsFile(bad, 'k.yaml'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^k\.yaml:10: kernels\[1\]\.executor: .*"local".*"docker"/m);
      return true;
    });
    assert.throws(() => parseKernelsFile(KERNELS.replace('debian: docker', 'debian: vm'), 'k.yaml'), /: k\.yaml:4: executors\.debian: /m);
    assert.throws(() => parseKernelsFile(KERNELS.replace('  debian: docker', '  slackware: docker'), 'k.yaml'), /: k\.yaml:3: executors: unknown field "slackware"/);
  });
});
