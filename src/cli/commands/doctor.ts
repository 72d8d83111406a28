import { loadKernelsFile } from '../../config/load-kernels-file.js';
import { ConfigError } from '../../errors.js';
import type { S3Settings } from '@kbuild/loader/internal';
import { farmSettings } from '../../queue/settings.js';
import { CHECKS } from '../../doctor/registry.js';
import { renderLines, renderTable, summaryLine } from '../../doctor/render.js';
import { runChecks } from '../../doctor/run-checks.js';
import type { Purpose } from '../../doctor/types.js';

export interface DoctorCommandOptions {
  readonly for: readonly Purpose[];
  readonly redis?: string;
  readonly store?: string;
  readonly kernels?: string;
  readonly timeout: number;
  readonly json?: boolean;
  readonly s3: S3Settings;
}

/** Exit 0: everything required for the given uses is present; 1: something required is missing; 2: bad flags. */
export async function doctorCommand(opts: DoctorCommandOptions): Promise<number> {
  const purposes = [...new Set(opts.for)];
  const redisFlag = nonEmpty(opts.redis) ?? nonEmpty(process.env['KBUILD_REDIS_URL']);
  // The same URL rules as the farm's own commands, so a bad URL is a usage error here too.
  const redisUrl = redisFlag === undefined ? undefined : farmSettings({ redis: redisFlag }).redisUrl;
  const dockerConfigured = opts.kernels === undefined ? false : await asksForDocker(opts.kernels);
  if (process.stderr.isTTY && opts.json !== true) process.stderr.write(`kbuild doctor: running ${CHECKS.length} checks (each at most ${opts.timeout} s)\n`);
  const results = await runChecks(CHECKS, {
    purposes: new Set(purposes),
    ...(redisUrl === undefined ? {} : { redisUrl }),
    ...(opts.store === undefined ? {} : { store: opts.store }),
    s3: opts.s3,
    dockerConfigured,
    env: process.env,
  }, opts.timeout * 1000);
  const ok = results.every((r) => r.status !== 'missing');
  if (opts.json === true) {
    process.stdout.write(`${JSON.stringify({ ok, for: purposes, checks: results }, null, 2)}\n`);
  } else {
    process.stdout.write(process.stdout.isTTY ? renderTable(results, !('NO_COLOR' in process.env)) : renderLines(results));
    process.stdout.write(`${summaryLine(results, purposes)}\n`);
  }
  return ok ? 0 : 1;
}

async function asksForDocker(path: string): Promise<boolean> {
  const { config } = await loadKernelsFile(path).catch((err: unknown) => {
    throw err instanceof ConfigError ? err : new ConfigError(`--kernels ${path}: ${err instanceof Error ? err.message : String(err)}`);
  });
  return Object.values(config.executors ?? {}).includes('docker') || config.kernels.some((k) => k.executor === 'docker');
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
