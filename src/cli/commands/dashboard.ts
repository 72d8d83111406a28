import { isLoopbackHost, normalizeBasePath, parsePort } from '../../dashboard/bind-address.js';
import { startDashboard } from '../../dashboard/start-dashboard.js';
import { farmSettings, redactUrl } from '../../queue/settings.js';
import { readIndex } from '@kbuild/loader';
import { renderReport } from '../../report/render-report.js';
import { s3SettingsFrom } from '../s3-options.js';
import { indexTrustFrom, storeFrom } from '../store-option.js';

export interface DashboardCommandOptions extends Record<string, unknown> {
  readonly redis?: string;
  readonly queue?: readonly string[];
  readonly host: string;
  readonly port: string;
  readonly basePath: string;
  readonly allowActions?: boolean;
  readonly json?: boolean;
}

/**
 * Serves bull-board until SIGINT/SIGTERM, then closes the server and the
 * Redis connection and exits 0. The URL goes to stdout (one JSON line with
 * --json, so a script can read the port chosen for --port 0).
 */
export async function dashboardCommand(opts: DashboardCommandOptions): Promise<number> {
  const names = opts.queue === undefined || opts.queue.length === 0 ? [undefined] : [...new Set(opts.queue)];
  const settings = names.map((queue) => farmSettings({ redis: opts.redis, queue }));
  const redisUrl = settings[0]!.redisUrl;
  const queues = settings.map((s) => s.queue);
  const basePath = normalizeBasePath(opts.basePath);
  const port = parsePort(opts.port);
  const readOnly = opts.allowActions !== true;

  const report = await reportOf(opts);
  const dashboard = await startDashboard({ redisUrl, queues, host: opts.host, port, basePath, allowActions: !readOnly, ...(report === undefined ? {} : { report }) });
  if (!isLoopbackHost(opts.host)) {
    process.stderr.write(
      `kbuild dashboard: warning: listening on ${opts.host}, which is not loopback; the dashboard has no authentication, ` +
        `so anyone who reaches this address sees every job's data${readOnly ? '' : ' and can retry, clean or remove jobs'}\n`,
    );
  }
  if (opts.json === true) {
    const reportUrl = report === undefined ? {} : { report: `${dashboard.url}report` };
    process.stdout.write(`${JSON.stringify({ url: dashboard.url, host: dashboard.host, port: dashboard.port, queues, readOnly, redis: redactUrl(redisUrl), ...reportUrl })}\n`);
  } else {
    process.stdout.write(`${dashboard.url}\n`);
    process.stderr.write(`kbuild dashboard: queues ${queues.join(', ')} on ${redactUrl(redisUrl)}, ${readOnly ? 'read-only (--allow-actions to retry/clean)' : 'actions allowed'}; Ctrl-C stops it\n`);
  }

  const signal = await new Promise<string>((resolveStop) => {
    // `on`, not `once`: execa's signal-exit re-raises a signal that no other listener handles.
    process.on('SIGTERM', () => resolveStop('SIGTERM')).on('SIGINT', () => resolveStop('SIGINT'));
  });
  process.stderr.write(`kbuild dashboard: ${signal}, stopping\n`);
  await dashboard.close();
  return 0;
}

/** With --store: the report of its index as `kbuild report` renders it, read again on every request, trusted the same way. */
async function reportOf(opts: DashboardCommandOptions): Promise<(() => Promise<string>) | undefined> {
  if (typeof opts['store'] !== 'string' && typeof opts['index'] !== 'string') return undefined;
  const location = storeFrom(opts, 'index');
  const trust = await indexTrustFrom(opts, location);
  const s3 = s3SettingsFrom(opts);
  return async () => {
    const read = await readIndex(location, { ...trust, s3 });
    return renderReport(read.index, { source: read.location, trust: read.trust });
  };
}
