import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KbuildError, errorMessage } from '../errors.js';
import { BULL_PREFIX, openRedis } from '../queue/settings.js';
import { urlHost } from './bind-address.js';
import { serveOffline } from './offline-page.js';

export interface DashboardOptions {
  readonly redisUrl: string;
  readonly queues: readonly string[];
  readonly host: string;
  /** 0: any free port (the chosen one is in the result). */
  readonly port: number;
  /** "/" or "/a/b", already normalized. */
  readonly basePath: string;
  /** Retry, clean, promote, pause from the page; off: the board only shows. */
  readonly allowActions: boolean;
  /** Renders the build report of the farm's store, served at `<base>/report` and linked from the page; absent: no link. */
  readonly report?: () => Promise<string>;
}

export interface Dashboard {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Idempotent; closes the HTTP server, the queues and the Redis connection, each even if another step fails. */
  close(): Promise<void>;
}

/**
 * bull-board over the farm's BullMQ queues. Read-only mode is enforced by
 * bull-board's API itself (405 for every action), not only hidden in the page.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const redis = await openRedis(options.redisUrl);
  // Named, so an operator (and the tests) can tell the dashboard's connection apart in CLIENT LIST.
  await redis.client('SETNAME', `kbuild-dashboard:${process.pid}`).catch(() => {});
  const queues = options.queues.map((name) => new Queue(name, { connection: redis, prefix: BULL_PREFIX }));
  const closeQueues = async (): Promise<void> => {
    await Promise.all(queues.map((q) => q.close().catch(() => {})));
    await redis.quit().catch(() => redis.disconnect());
  };

  const reportPath = `${options.basePath === '/' ? '' : options.basePath}/report`;
  let server: Server;
  try {
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath(options.basePath === '/' ? '' : options.basePath);
    createBullBoard({
      queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: !options.allowActions, allowRetries: options.allowActions })),
      serverAdapter,
      options: {
        uiConfig: {
          boardTitle: 'kbuild farm',
          miscLinks: options.report === undefined ? [] : [{ text: 'Build report', url: reportPath }],
          hideDocsLink: true,
        },
      },
    });
    serveOffline(serverAdapter.getRouter() as express.Express);
    const app = express();
    app.disable('x-powered-by');
    if (options.report !== undefined) app.get(reportPath, reportHandler(options.report));
    app.use(options.basePath, serverAdapter.getRouter() as express.Router);
    server = await listen(app, options.host, options.port);
  } catch (err) {
    await closeQueues();
    throw err;
  }

  const port = (server.address() as AddressInfo).port;
  const path = options.basePath === '/' ? '/' : `${options.basePath}/`;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost(options.host)}:${port}${path}`,
    host: options.host,
    port,
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // Browsers keep connections open; without this close() would wait for them.
        server.closeAllConnections();
        await stopped;
        await closeQueues();
      })()),
  };
}

/** Rendered per request: the index changes each time a submission publishes. */
function reportHandler(render: () => Promise<string>): express.RequestHandler {
  return (_req, res) => {
    render().then(
      (html) => res.type('html').send(html),
      (err: unknown) => res.status(502).type('text').send(`kbuild dashboard: no report: ${errorMessage(err)}\n`),
    );
  };
}

function listen(app: express.Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'the port is in use' : err.code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : errorMessage(err);
      reject(new KbuildError('E_DASHBOARD_LISTEN', `cannot listen on ${urlHost(host)}:${port}: ${why}`, {
        suggestions: ['Pick another --port (0: any free port) or --host'],
      }));
    });
  });
}
