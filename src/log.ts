import pino, { type Logger } from 'pino';

/**
 * The one logger. Static messages, details in fields. Logs go to stderr so
 * stdout stays clean for `--json` output.
 */
export function createLogger(level: string = process.env['KBUILD_LOG_LEVEL'] ?? 'warn'): Logger {
  return pino({ level, base: null }, pino.destination(2));
}

export type { Logger };
