import assert from 'node:assert/strict';
import { execa } from 'execa';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BULL_PREFIX } from '../../src/queue/settings.js';
import { CLI, kbuild, REPO_ROOT } from '../helpers/cli.js';
import { farmFixture, REDIS_URL } from '../helpers/farm.js';
import { threeDebianKernels } from '../helpers/kernel-sets.js';
import { REPORT_DATA_ID } from '../../src/report/render-report.js';
import { summarizeIndex } from '../../src/report/summary.js';
import { launchChromium } from '../report/chromium.js';
import { fixtureIndex } from '../report/report-fixtures.js';

const spawnDashboard = (args: string[]) =>
  execa('node', [CLI, 'dashboard', '--port', '0', '--json', '--redis', REDIS_URL, ...args], { cwd: REPO_ROOT, reject: false });

interface Started {
  readonly child: ReturnType<typeof spawnDashboard>;
  readonly info: { url: string; host: string; port: number; queues: string[]; readOnly: boolean; report?: string };
  stderr(): string;
}

/** `kbuild dashboard --port 0 --json`, as an operator starts it; resolves once it printed its URL. */
async function startDashboard(args: string[]): Promise<Started> {
  const child = spawnDashboard(args);
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const info = await new Promise<Started['info'] & { report?: string }>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined && out.includes('\n')) resolve(JSON.parse(line) as Started['info']);
    });
    void child.then(() => reject(new Error(`dashboard exited before printing its URL:\n${out}\n${err}`)));
  });
  return { child, info, stderr: () => err };
}

async function dashboardClients(pid: number): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    const list = String(await redis.client('LIST'));
    return list.split('\n').filter((l) => l.includes(` name=kbuild-dashboard:${pid} `)).length;
  } finally {
    await redis.quit();
  }
}

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
}

describe('kbuild dashboard on real Redis', { timeout: 5 * 60 * 1000 }, () => {
  const farm = farmFixture();
  let work: string;
  let queue: string;
  let enqueued: number;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-dashboard-'));
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(join(work, 'kernels.yaml'), threeDebianKernels());
    queue = farm.queue('dashboard');
    // The real submit path, with no worker: the builds stay waiting for the board to show.
    const submitted = await kbuild(['submit', '--kernels', join(work, 'kernels.yaml'), '--store', join(work, 'store'), '--queue', queue, '--redis', REDIS_URL, '--json']);
    assert.equal(submitted.exitCode, 0, submitted.stderr);
    enqueued = (JSON.parse(submitted.stdout) as { enqueued: number }).enqueued;
    assert.ok(enqueued > 0);
  });
  after(async () => {
    await farm.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('shows the submitted jobs read-only on loopback and stops cleanly on SIGTERM', async () => {
    const d = await startDashboard(['--queue', queue]);
    try {
      assert.equal(d.info.host, '127.0.0.1');
      assert.match(d.info.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.equal(d.info.readOnly, true);
      assert.doesNotMatch(d.stderr(), /no authentication/, 'no warning on loopback');

      const html = await (await fetch(d.info.url)).text();
      assert.match(html, /<title>kbuild farm<\/title>/);

      const api = (await (await fetch(`${d.info.url}api/queues?activeQueue=${queue}&status=waiting&page=1&jobsPerPage=100`)).json()) as {
        queues: { name: string; counts: Record<string, number>; jobs: { id: string }[]; readOnlyMode: boolean }[];
      };
      const shown = api.queues.find((q) => q.name === queue);
      assert.ok(shown, `queue ${queue} listed: ${JSON.stringify(api.queues.map((q) => q.name))}`);
      assert.equal(shown.readOnlyMode, true);
      // Compared with what BullMQ itself reports for the queue, through a connection of our own.
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
      const direct = new Queue(queue, { connection: redis, prefix: BULL_PREFIX });
      try {
        const counts = await direct.getJobCounts('active', 'completed', 'delayed', 'failed', 'prioritized', 'waiting', 'waiting-children');
        assert.deepEqual(shown.counts, counts);
        assert.ok((shown.counts['waiting'] ?? 0) + (shown.counts['prioritized'] ?? 0) >= enqueued, JSON.stringify(shown.counts));
        const waitingIds = (await direct.getJobs(['waiting'])).map((j) => j.id).sort();
        assert.deepEqual(shown.jobs.map((j) => j.id).sort(), waitingIds);
      } finally {
        await direct.close();
        await redis.quit();
      }

      // Read-only is enforced by the API, not only hidden in the page.
      const retry = await fetch(`${d.info.url}api/queues/${queue}/retry/failed`, { method: 'PUT' });
      assert.equal(retry.status, 405);

      // Loopback only: the machine's other addresses refuse the port.
      const external = Object.values(networkInterfaces()).flat().find((a) => a !== undefined && a.family === 'IPv4' && !a.internal);
      if (external !== undefined) assert.equal(await refused(external.address, d.info.port), true, `${external.address}:${d.info.port} must refuse`);
      assert.equal(await dashboardClients(d.child.pid!), 1, 'one named Redis connection while running');
    } finally {
      d.child.kill('SIGTERM');
    }
    const result = await d.child;
    assert.equal(result.exitCode, 0, d.stderr());
    assert.match(d.stderr(), /SIGTERM, stopping/);
    assert.equal(await dashboardClients(d.child.pid!), 0, 'no Redis connection left');
  });

  it('serves under --base-path, allows actions with --allow-actions, and warns off loopback', async () => {
    const other = farm.queue('dashboard-other');
    const d = await startDashboard(['--queue', queue, '--queue', other, '--host', '0.0.0.0', '--base-path', '/farm/queues/', '--allow-actions']);
    try {
      assert.match(d.stderr(), /not loopback; the dashboard has no authentication.*can retry, clean or remove jobs/);
      const url = `http://127.0.0.1:${d.info.port}/farm/queues/`;
      assert.equal(d.info.url, `http://0.0.0.0:${d.info.port}/farm/queues/`);
      const api = (await (await fetch(`${url}api/queues`)).json()) as { queues: { name: string; readOnlyMode: boolean }[] };
      assert.deepEqual(api.queues.map((q) => q.name).sort(), [queue, other].sort());
      assert.ok(api.queues.every((q) => !q.readOnlyMode));
      // An action goes through: retrying the (empty) failed set answers 200.
      assert.equal((await fetch(`${url}api/queues/${queue}/retry/failed`, { method: 'PUT' })).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${d.info.port}/api/queues`)).status, 404, 'nothing outside the base path');
    } finally {
      d.child.kill('SIGINT');
    }
    assert.equal((await d.child).exitCode, 0);
  });

  it('names jobs by probe, distro, release and arch, links the store\'s report, and makes no request off loopback', async () => {
    const reportStore = join(work, 'report-store');
    const index = fixtureIndex();
    await mkdir(reportStore, { recursive: true });
    await writeFile(join(reportStore, 'index.json'), JSON.stringify(index));
    const d = await startDashboard(['--queue', queue, '--store', reportStore, '--allow-unsigned']);
    const browser = await launchChromium();
    try {
      // What BullMQ holds, named from each job's own data.
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
      const direct = new Queue(queue, { connection: redis, prefix: BULL_PREFIX });
      try {
        const jobs = await direct.getJobs(['waiting', 'prioritized', 'delayed']);
        const builds = jobs.filter((j) => typeof (j.data as { job?: unknown }).job === 'object');
        assert.ok(builds.length > 0);
        for (const job of builds) {
          const spec = (job.data as { job: { kind: string; arch?: string; probe: { name: string }; kernel?: { distro: string; release: string; arch: string } } }).job;
          const expected =
            spec.kind === 'core'
              ? `build ${spec.probe.name} CO-RE ${spec.arch}`
              : `build ${spec.probe.name} ${spec.kind === 'btf' ? 'external BTF ' : ''}${spec.kernel!.distro} ${spec.kernel!.release} ${spec.kernel!.arch}`;
          assert.equal(job.name, expected);
        }
        assert.ok(builds.some((j) => /^build execve debian \S+-amd64 x86_64$/.test(j.name)), builds.map((j) => j.name).join('\n'));
        const verifies = jobs.filter((j) => j.name.startsWith('verify '));
        for (const v of verifies) {
          const k = (v.data as { kernel: { distro: string; release: string; arch: string } }).kernel;
          assert.equal(v.name, `verify ${k.distro} ${k.release} ${k.arch}`);
        }
      } finally {
        await direct.close();
        await redis.quit();
      }

      // The report the page links to: the store's index, rendered as `kbuild report` renders it.
      assert.equal(d.info.report, `${d.info.url}report`);
      const report = await fetch(d.info.report);
      assert.equal(report.status, 200);
      const html = await report.text();
      const data = new RegExp(`<script type="application/json" id="${REPORT_DATA_ID}">([^<]*)</script>`).exec(html);
      assert.ok(data, 'the report carries its data element');
      assert.deepEqual((JSON.parse(data[1]!) as { summary: unknown }).summary, summarizeIndex(index));

      // The board in a real browser: the names shown, the link there, every request to the dashboard itself.
      const { page, requests, console: messages } = await browser.open(`${d.info.url}queue/${queue}?status=waiting`);
      await page.getByText(/^build execve debian /).first().waitFor({ timeout: 30000 });
      await page.waitForLoadState('networkidle');
      const links = await page.$$eval('a', (as) => as.map((a) => a.getAttribute('href') ?? ''));
      const menu = page.locator('ul[class^="actions"] li button').last();
      if (!links.includes('/report')) await menu.click();
      const reportLink = page.locator('a', { hasText: 'Build report' }).first();
      await reportLink.waitFor({ timeout: 10000 });
      assert.equal(await reportLink.evaluate((a) => (a as HTMLAnchorElement).href), d.info.report);
      const origin = new URL(d.info.url).origin;
      const offsite = requests.filter((r) => !r.startsWith(`${origin}/`) && !r.startsWith('data:'));
      assert.deepEqual(offsite, [], `requests off the dashboard: ${offsite.join(', ')}\n${messages.join('\n')}`);
      assert.ok(requests.some((r) => r.includes('/api/queues')), 'the page loaded its jobs from the dashboard');
      // The page source itself names no other host for a stylesheet or script.
      const page0 = await (await fetch(d.info.url)).text();
      assert.doesNotMatch(page0, /<(link|script)[^>]+(href|src)="(https?:)?\/\//);
    } finally {
      await browser.close();
      d.child.kill('SIGTERM');
    }
    assert.equal((await d.child).exitCode, 0, d.stderr());
  });

  it('rejects bad flags with exit 2 and an unreachable Redis with exit 1', async () => {
    const bad = await kbuild(['dashboard', '--port', '70000']);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /--port: expected 0-65535/);
    const path = await kbuild(['dashboard', '--base-path', 'no-slash']);
    assert.equal(path.exitCode, 2);
    const down = await kbuild(['dashboard', '--port', '0', '--redis', 'redis://127.0.0.1:1']);
    assert.equal(down.exitCode, 1);
    assert.match(down.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});
