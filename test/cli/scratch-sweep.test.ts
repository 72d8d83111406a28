import assert from 'node:assert/strict';
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeScratch } from '../../src/util/scratch.js';
import { farmFixture, stopWorker } from '../helpers/farm.js';

const HOUR = 60 * 60_000;

describe('scratch folders of killed runs are swept at start-up', { timeout: 2 * 60_000 }, () => {
  let work: string;
  const farm = farmFixture();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-sweep-'));
  });
  after(async () => {
    await farm.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('scratch folders carry their owner pid', async () => {
    const dir = await makeScratch('kbuild-job-');
    try {
      assert.match(basename(dir), new RegExp(`^kbuild-job-${process.pid}-`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a starting worker removes old folders of dead owners and keeps the rest', async () => {
    const tmp = join(work, 'tmp');
    await mkdir(tmp);
    const dead = Number((await execa('sh', ['-c', 'echo $$'])).stdout);
    const live = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const folders: [string, number][] = [
        [`kbuild-job-${dead}-aaaaaa`, HOUR],
        [`kbuild-verify-${dead}-bbbbbb`, HOUR],
        [`kbuild-job-${live.pid ?? 0}-cccccc`, HOUR],
        [`kbuild-job-${dead}-dddddd`, 0],
        ['kbuild-job-eeeeee', 2 * HOUR],
        ['kbuild-verify-ffffff', 48 * HOUR],
        ['kbuild-other-gggggg', 48 * HOUR],
      ];
      for (const [name, age] of folders) {
        await mkdir(join(tmp, name, 'project'), { recursive: true });
        const when = new Date(Date.now() - age);
        await utimes(join(tmp, name), when, when);
      }
      const w = await farm.worker(farm.queue('sweep'), { TMPDIR: tmp });
      assert.equal(await stopWorker(w), 0);
      assert.match(w.output(), /removed 3 scratch folder\(s\) of processes that are gone/);
      assert.deepEqual((await readdir(tmp)).sort(), [`kbuild-job-${dead}-dddddd`, `kbuild-job-${live.pid ?? 0}-cccccc`, 'kbuild-job-eeeeee', 'kbuild-other-gggggg'].sort());
    } finally {
      live.kill('SIGKILL');
    }
  });
});
