import { isLoopbackHost, normalizeBasePath, parsePort } from '../../dashboard/bind-address.js';
import { startDashboard } from '../../dashboard/start-dashboard.js';
import { farmSettings, redactUrl } from '../../queue/settings.js';

export interface DashboardCommandOptions {
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

  const dashboard = await startDashboard({ redisUrl, queues, host: opts.host, port, basePath, allowActions: !readOnly });
  if (!isLoopbackHost(opts.host)) {
    process.stderr.write(
      `kbuild dashboard: warning: listening on ${opts.host}, which is not loopback; the dashboard has no authentication, ` +
        `so anyone who reaches this address sees every job's data${readOnly ? '' : ' and can retry, clean or remove jobs'}\n`,
    );
  }
  if (opts.json === true) {
    process.stdout.write(`${JSON.stringify({ url: dashboard.url, host: dashboard.host, port: dashboard.port, queues, readOnly, redis: redactUrl(redisUrl) })}\n`);
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
