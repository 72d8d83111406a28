import pino, { type DestinationStream, type Logger } from 'pino';
import { logSentence } from './log-sentence.js';

export type LogFormat = 'text' | 'json';

let format: LogFormat | undefined;

/** `--log-format` of the CLI: set once before a command runs; else KBUILD_LOG_FORMAT, else text. */
export function setLogFormat(value: LogFormat): void {
  format = value;
}

function currentFormat(): LogFormat {
  return format ?? (process.env['KBUILD_LOG_FORMAT'] === 'json' ? 'json' : 'text');
}

/**
 * The one logger. Static messages, details in fields. Logs go to stderr so
 * stdout stays clean for `--json` output: as sentences among the progress
 * lines people read, as pino's JSON lines with `--log-format json`.
 */
export function createLogger(level: string = process.env['KBUILD_LOG_LEVEL'] ?? 'warn', stream: NodeJS.WritableStream = process.stderr): Logger {
  if (currentFormat() === 'json') {
    return pino({ level, base: null }, stream === process.stderr ? pino.destination(2) : { write: (line: string) => void stream.write(line) });
  }
  const sentences: DestinationStream = { write: (line: string) => void stream.write(logSentence(line, level)) };
  return pino({ level, base: null }, sentences);
}

export type { Logger };
