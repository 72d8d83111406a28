import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex } from '../../src/loader/index-schema.js';
import type { SubmissionStatus } from '../../src/queue/status.js';
import { countingToolchain, kbuild, REPO_ROOT } from '../helpers/cli.js';
import { farmFixture, REDIS_URL, slowToolchain, stopWorker, type WorkerProcess } from '../helpers/farm.js';
import { threeDebianKernels, writeBreakingProbe } from '../helpers/kernel-sets.js';

// Three real Debian kernels (the set of test/cli/build.test.ts, so the download cache is shared).
const KERNELS = threeDebianKernels();
const ALL_PATHS = [
  'core/arm64/execve.o',
  'core/x86_64/execve.o',
  'execve/arm64/execve_debian_6.1.0-50-arm64.o',
  'execve/x86_64/execve_debian_6.1.0-50-cloud-amd64.o',
  'execve/x86_64/execve_debian_6.12.117+deb13-cloud-amd64.o',
];

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
type SubmitSummary = SubmissionStatus & { enqueued: number; total: number };

describe('kbuild submit / worker / status on Redis (real Debian kernels, slow)', { timeout: 40 * 60 * 1000 }, () => {
  let work: string;
  const farm = farmFixture();
  const queue = farm.queue;
  const worker = farm.worker;
  const submit = (q: string, kernels: string, store: string, args: string[] = [], env: Record<string, string> = {}) =>
    kbuild(['submit', '--kernels', kernels, '--store', store, '--queue', q, '--redis', REDIS_URL, ...args], { env });
  const status = (q: string, args: string[] = []) => kbuild(['status', '--queue', q, '--redis', REDIS_URL, ...args]);
  const readIndex = async (store: string) => ArtifactIndex.parse(JSON.parse(await readFile(join(store, 'index.json'), 'utf8')));

  /** Every artifact the index lists is in the store, whole. */
  async function assertIndexMatchesStore(store: string): Promise<ArtifactIndex> {
    const index = await readIndex(store);
    for (const artifact of index.artifacts) {
      const bytes = await readFile(join(store, artifact.path));
      assert.equal(bytes.length, artifact.size, artifact.path);
      assert.equal(sha256(bytes), artifact.sha256, `${artifact.path} is whole`);
    }
    return index;
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-farm-'));
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), KERNELS);
  });
  after(async () => {
    await farm.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  describe('two workers, then a resubmission', () => {
    let q: string;
    let store: string;
    let tools: { path: string; log: string };
    const compiles = async (): Promise<number> => (await readFile(tools.log, 'utf8')).split('\n').filter(Boolean).length;

    before(async () => {
      q = queue('two');
      store = join(work, 'store-two');
      tools = await countingToolchain(join(work, 'tools'));
    });

    it('builds a real set to completion with two worker processes that both took jobs', async () => {
      const a = await worker(q, { PATH: tools.path });
      const b = await worker(q, { PATH: tools.path });
      const result = await submit(q, join(work, 'kernels.yaml'), store, ['--wait', '--json']);
      assert.equal(result.exitCode, 0, result.stderr + result.stdout);
      const summary = JSON.parse(result.stdout) as SubmitSummary;
      assert.equal(summary.enqueued, 5);
      assert.equal(summary.counts.done, 5);
      assert.equal(summary.publish.state, 'published');
      assert.deepEqual(new Set(summary.jobs.map((j) => j.worker)), new Set([a.name, b.name]), 'both workers took jobs');
      assert.match(result.stderr, /execve debian 6\.1\.0-50-arm64 arm64: built/, 'progress names finished builds');
      const index = await assertIndexMatchesStore(store);
      assert.deepEqual(index.artifacts.map((x) => x.path).sort(), ALL_PATHS);
      assert.deepEqual(index.failures, []);
      assert.ok((await compiles()) >= 5);
    });

    it('a resubmission of the same set enqueues nothing and compiles nothing', async () => {
      const before = await compiles();
      const indexBefore = await readFile(join(store, 'index.json'));
      const result = await submit(q, join(work, 'kernels.yaml'), store, ['--wait', '--json']);
      assert.equal(result.exitCode, 0, result.stderr);
      const summary = JSON.parse(result.stdout) as SubmitSummary;
      assert.equal(summary.enqueued, 0);
      assert.equal(summary.counts.done, 5);
      assert.ok(summary.jobs.every((j) => j.reused === true), 'every result is the earlier one');
      assert.equal(await compiles(), before, 'no compiler ran');
      assert.ok(indexBefore.equals(await readFile(join(store, 'index.json'))), 'nothing republished');
    });

    it('on a queue that forgot everything, workers skip what the store holds (build ids match)', async () => {
      const before = await compiles();
      const fresh = queue('fresh');
      await worker(fresh, { PATH: tools.path });
      const result = await submit(fresh, join(work, 'kernels.yaml'), store, ['--wait', '--json']);
      assert.equal(result.exitCode, 0, result.stderr);
      const summary = JSON.parse(result.stdout) as SubmitSummary;
      assert.equal(summary.enqueued, 5);
      assert.deepEqual(summary.jobs.map((j) => j.outcome), Array(5).fill('skipped'));
      assert.equal(await compiles(), before, 'no compiler ran');
      assert.equal((await assertIndexMatchesStore(store)).artifacts.length, 5);
    });

    it('changing one probe rebuilds only that probe; adding one kernel builds only that kernel', async () => {
      await cp(join(work, 'probes/execve'), join(work, 'probes/other'), { recursive: true });
      const twoProbes = (kernels: string): string =>
        kernels.replace('    source: probes/execve/execve.bpf.c\n', '    source: probes/execve/execve.bpf.c\n  - name: other\n    source: probes/other/execve.bpf.c\n');
      const file = join(work, 'two-probes.yaml');
      const run = async (kernels: string): Promise<SubmitSummary> => {
        await writeFile(file, kernels);
        const result = await submit(q, file, store, ['--wait', '--json']);
        assert.equal(result.exitCode, 0, result.stderr);
        return JSON.parse(result.stdout) as SubmitSummary;
      };
      // Built by this submission, not reused from an earlier one.
      const built = (s: SubmitSummary): string[] => s.jobs.filter((j) => j.outcome === 'built' && j.reused !== true).map((j) => j.label).sort();
      const execveBefore = await readFile(join(store, ALL_PATHS[3]!));

      const added = await run(twoProbes(KERNELS));
      assert.equal(added.enqueued, 5, 'the new probe only');
      assert.ok(built(added).every((label) => label.startsWith('other ')), built(added).join(', '));

      await writeFile(join(work, 'probes/other/execve.bpf.c'), `${await readFile(join(work, 'probes/other/execve.bpf.c'), 'utf8')}\n/* changed */\n`);
      const changed = await run(twoProbes(KERNELS));
      assert.equal(changed.enqueued, 5, 'the changed probe only');
      assert.deepEqual(built(changed), built(added));

      const more = await run(twoProbes(`${KERNELS}  - { distro: debian, release: 6.1.0-50-amd64, arch: x86_64, btf: true }\n`));
      assert.equal(more.enqueued, 2, 'one job per probe for the new kernel');
      assert.deepEqual(built(more), ['execve debian 6.1.0-50-amd64 x86_64', 'other debian 6.1.0-50-amd64 x86_64']);
      assert.ok(execveBefore.equals(await readFile(join(store, ALL_PATHS[3]!))), 'untouched objects stay as they were');
      assert.equal((await assertIndexMatchesStore(store)).artifacts.length, 12);
    });

    it('a finished job whose object left the store is built again on resubmission', async () => {
      await rm(join(store, ALL_PATHS[0]!));
      const result = await submit(q, join(work, 'kernels.yaml'), store, ['--wait', '--json']);
      assert.equal(result.exitCode, 0, result.stderr);
      const summary = JSON.parse(result.stdout) as SubmitSummary;
      assert.equal(summary.enqueued, 1);
      assert.deepEqual(summary.jobs.filter((j) => j.reused !== true).map((j) => j.path), [ALL_PATHS[0]]);
      const index = await assertIndexMatchesStore(store);
      const paths = index.artifacts.map((x) => x.path);
      for (const path of ALL_PATHS) assert.ok(paths.includes(path), `${path} is listed`);
      // Publishing merges into the stored index: what the earlier submissions published to this store stays listed.
      assert.ok(paths.includes('other/x86_64/other_debian_6.1.0-50-amd64.o'), paths.join('\n'));
    });

    it('SIGTERM lets the worker finish and exit 0', async () => {
      for (const w of farm.workers.filter((x) => x.child.exitCode === null)) assert.equal(await stopWorker(w), 0, w.output());
    });
  });

  it('a worker killed with SIGKILL mid-build: another worker finishes the job and the artifact is whole', async () => {
    const q = queue('kill');
    const store = join(work, 'store-kill');
    // Short locks so the stalled job is taken back within seconds.
    const fast = ['--lock-duration', '3000', '--stalled-interval', '1000'];
    const victim = await worker(q, { PATH: await slowToolchain(join(work, 'slow'), 20) }, fast);
    const first = await submit(q, join(work, 'kernels.yaml'), store);
    assert.equal(first.exitCode, 0, first.stderr);
    await victim.waitFor(/compiling (.+)/);
    const killedLabel = /started (.+) \(attempt 1\)/.exec(victim.output())?.[1];
    assert.ok(killedLabel !== undefined);
    victim.child.kill('SIGKILL');
    await victim.child;
    const rescuer = await worker(q, {}, fast);
    // The same set again: it attaches to the running submission and follows it.
    const result = await submit(q, join(work, 'kernels.yaml'), store, ['--wait', '--json']);
    assert.equal(result.exitCode, 0, result.stderr + result.stdout + rescuer.output());
    const summary = JSON.parse(result.stdout) as SubmitSummary;
    assert.equal(summary.enqueued, 0, 'nothing was lost, so nothing is added');
    const killedJob = summary.jobs.find((j) => j.label === killedLabel);
    assert.equal(killedJob?.state, 'done');
    assert.equal(killedJob?.worker, rescuer.name, 'the other worker finished the killed job');
    assert.ok(summary.jobs.every((j) => j.worker === rescuer.name));
    const index = await assertIndexMatchesStore(store);
    assert.deepEqual(index.artifacts.map((x) => x.path).sort(), ALL_PATHS);
    // No object in the store that the index does not vouch for, and no leftover temporary file.
    const files = (await readdir(store, { recursive: true })).map(String).filter((f) => f.endsWith('.o') || f.includes('.tmp-'));
    assert.deepEqual(files.sort(), ALL_PATHS);
  });

  it('a missing kernel and a compile error are reported with their reason by submit --wait and status, while the rest builds', async () => {
    const q = queue('fail');
    const store = join(work, 'store-fail');
    // A probe that only breaks against 6.12 headers.
    await writeBreakingProbe(work);
    const kernels = join(work, 'breaks.yaml');
    await writeFile(
      kernels,
      `probes:\n  - { name: breaks, source: probes/breaks/execve.bpf.c }\nkernels:\n` +
        `  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64, btf: true }\n` +
        `  - { distro: debian, release: 6.12.117+deb13-cloud-amd64, arch: x86_64, btf: true }\n` +
        `  - { distro: debian, release: 6.1.0-999-amd64, arch: x86_64, btf: true }\n`,
    );
    await worker(q);
    await worker(q);
    const result = await submit(q, kernels, store, ['--wait']);
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(result.stderr, /breaks debian 6\.1\.0-999-amd64 x86_64: FAILED E_KERNEL_NOT_FOUND: .*6\.1\.0-999-amd64.*not found/);
    assert.match(result.stderr, /breaks debian 6\.12\.117\+deb13-cloud-amd64 x86_64: FAILED E_COMPILE: [^\n]*\n[\s\S]*use of undeclared identifier 'undeclared_on_612'/);
    assert.match(result.stdout, /2 done, 2 failed/);

    const human = await status(q);
    assert.equal(human.exitCode, 1);
    assert.match(human.stdout, /debian 6\.1\.0-999-amd64 x86_64\n {2}breaks debian 6\.1\.0-999-amd64 x86_64: FAILED E_KERNEL_NOT_FOUND/);
    assert.match(human.stdout, /undeclared_on_612/);
    const id = /submission (s-[0-9a-f]{20})/.exec(result.stderr)?.[1];
    assert.ok(id !== undefined, result.stderr);
    const json = await status(q, [id, '--json']);
    assert.equal(json.exitCode, 1);
    const report = JSON.parse(json.stdout) as SubmissionStatus;
    const failed = report.jobs.filter((j) => j.state === 'failed');
    assert.deepEqual(failed.map((j) => j.error?.code).sort(), ['E_COMPILE', 'E_KERNEL_NOT_FOUND']);
    assert.ok(failed.every((j) => j.attempts === 1), 'retrying cannot help: one attempt each');
    assert.deepEqual(report.jobs.filter((j) => j.state === 'done').map((j) => j.label).sort(), ['breaks CO-RE x86_64', 'breaks debian 6.1.0-50-cloud-amd64 x86_64']);
    const unknown = await status(q, ['s-00000000000000000000']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /has no submission s-0+/);
    const index = await assertIndexMatchesStore(store);
    assert.equal(index.artifacts.length, 2);
    assert.deepEqual(index.failures.map((f) => f.code).sort(), ['E_COMPILE', 'E_KERNEL_NOT_FOUND']);
  });
});
