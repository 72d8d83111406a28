import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { run } from '../exec/exec.js';
import { COMPLETE_MARKER, ensureEntry } from './content-cache.js';

const MODULE = fileURLToPath(new URL('./content-cache.ts', import.meta.url));

describe('content cache', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'kbuild-cc-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('builds an entry once for concurrent callers in one process', async () => {
    let builds = 0;
    const populate = async (dir: string): Promise<void> => {
      builds++;
      await sleep(50);
      await writeFile(join(dir, 'f'), 'x');
    };
    const results = await Promise.all([1, 2, 3, 4].map(() => ensureEntry(root, 'trees', 'same', populate)));
    assert.equal(builds, 1);
    assert.deepEqual(results.map((r) => r.created).sort(), [false, false, false, true]);
    assert.deepEqual((await readdir(join(root, 'trees'))).sort(), ['same']);
  });

  it('builds an entry once for concurrent processes sharing the cache', async () => {
    const log = join(root, 'builds.log');
    const script = join(root, 'child.mts');
    await writeFile(
      script,
      `import { appendFile, writeFile } from 'node:fs/promises';
       import { ensureEntry } from ${JSON.stringify(MODULE)};
       const entry = await ensureEntry(${JSON.stringify(root)}, 'trees', 'shared', async (dir) => {
         await appendFile(${JSON.stringify(log)}, process.pid + '\\n');
         await new Promise((r) => setTimeout(r, 300));
         await writeFile(dir + '/f', 'x');
       });
       console.log(entry.path);`,
    );
    const outputs = await Promise.all([1, 2, 3].map(() => run(process.execPath, ['--import', 'tsx', script])));
    assert.equal((await readFile(log, 'utf8')).trim().split('\n').length, 1);
    assert.equal(new Set(outputs.map((o) => o.stdout.trim())).size, 1);
    assert.deepEqual(await readdir(join(root, 'trees', 'shared')), [COMPLETE_MARKER, 'f'].sort());
  });

  it('leaves nothing behind when populate fails, so the next call retries', async () => {
    await assert.rejects(
      ensureEntry(root, 'trees', 'failing', async (dir) => {
        await writeFile(join(dir, 'half'), 'x');
        throw new Error('disk full');
      }),
      /disk full/,
    );
    assert.ok(!(await readdir(join(root, 'trees'))).some((n) => n.includes('failing')));
    const entry = await ensureEntry(root, 'trees', 'failing', async (dir) => writeFile(join(dir, 'whole'), 'x'));
    assert.equal(entry.created, true);
  });

  it('breaks the lock of a dead process and rebuilds a folder missing its marker', async () => {
    await mkdir(join(root, 'trees', 'orphan'), { recursive: true });
    await writeFile(join(root, 'trees', 'orphan', 'stale'), 'x');
    await writeFile(join(root, 'trees', 'orphan.lock'), JSON.stringify({ pid: 2 ** 22 + 1, host: hostname() }));
    const entry = await ensureEntry(root, 'trees', 'orphan', async (dir) => writeFile(join(dir, 'fresh'), 'x'));
    assert.equal(entry.created, true);
    assert.deepEqual((await readdir(entry.path)).sort(), [COMPLETE_MARKER, 'fresh'].sort());
  });

  it('refuses keys that are not plain names', async () => {
    await assert.rejects(ensureEntry(root, 'trees', '../escape', async () => undefined), /bad cache key/);
  });
});
