import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { KbuildError } from '../errors.js';
import { addMetricsSink, PHASES } from './events.js';

/**
 * `kbuild worker --metrics HOST:PORT`: a Prometheus endpoint at /metrics
 * with what the worker did (jobs by kind and outcome, seconds per phase,
 * cache lookups, verify outcomes) and the queue's jobs by state, read from
 * Redis at each scrape.
 */

export interface MetricsEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

export interface MetricsSource {
  /** The queue's job counts by state (waiting, active, delayed, completed, failed, ...). */
  readonly jobCounts: () => Promise<Record<string, number>>;
  readonly queue: string;
  readonly worker: string;
}

/** "9464" or ":9464" listens on loopback; "0.0.0.0:9464" or "[::]:9464" where asked. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (match === null || port > 65535) {
    throw new KbuildError('E_USAGE', `--metrics: "${text}" is not HOST:PORT or PORT`, {
      exitCode: 2,
      suggestions: ['Use e.g. --metrics 127.0.0.1:9464 (or 0.0.0.0:9464 in a container)'],
    });
  }
  const host = match[1] === undefined || match[1] === '' ? '127.0.0.1' : match[1].replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

export function workerRegistry(source: MetricsSource): { registry: Registry; stop: () => void } {
  const registry = new Registry();
  registry.setDefaultLabels({ queue: source.queue, worker: source.worker });
  collectDefaultMetrics({ register: registry, prefix: 'kbuild_' });
  const jobs = new Counter({ name: 'kbuild_worker_jobs_total', help: 'Queue jobs this worker ended, by kind and outcome', labelNames: ['kind', 'outcome'], registers: [registry] });
  const phases = new Histogram({
    name: 'kbuild_phase_seconds',
    help: 'Seconds per phase: download, extract, compile, verify, publish',
    labelNames: ['phase'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const cache = new Counter({ name: 'kbuild_cache_lookups_total', help: 'Cache lookups by cache and result (hit, miss)', labelNames: ['cache', 'result'], registers: [registry] });
  const kernels = new Counter({ name: 'kbuild_verify_kernels_total', help: 'Kernels verified, by status', labelNames: ['status'], registers: [registry] });
  const cases = new Counter({ name: 'kbuild_verify_cases_total', help: 'Objects verified in a kernel, by result', labelNames: ['result'], registers: [registry] });
  new Gauge({
    name: 'kbuild_queue_jobs',
    help: "The queue's jobs by state, read at each scrape",
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await source.jobCounts().catch(() => undefined);
      for (const [state, n] of Object.entries(counts ?? {})) this.set({ state }, n);
    },
  });
  // Every phase and cache result present from the start, so rate() sees the first observation.
  for (const phase of PHASES) phases.zero({ phase });
  const stop = addMetricsSink({
    phase: (phase, seconds) => phases.observe({ phase }, seconds),
    cache: (name, hit) => cache.inc({ cache: name, result: hit ? 'hit' : 'miss' }),
    job: (kind, outcome) => jobs.inc({ kind, outcome }),
    verify: (status, results) => {
      kernels.inc({ status });
      for (const result of results) cases.inc({ result });
    },
  });
  return { registry, stop };
}

/** Serves the worker's registry on `address` until `close()`. */
export async function startMetricsEndpoint(address: string, source: MetricsSource): Promise<MetricsEndpoint> {
  const { host, port } = parseListenAddress(address);
  const { registry, stop } = workerRegistry(source);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only /metrics here\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new KbuildError('E_USAGE', `--metrics: cannot listen on ${address}: ${err.message}`, { exitCode: 2 })));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shown}:${bound.port}/metrics`,
    close: async () => {
      stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
