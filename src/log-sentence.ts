/** pino's numeric levels, as the word a sentence starts with (info says nothing). */
const LEVEL_WORDS: Readonly<Record<number, string>> = { 10: 'trace: ', 20: 'debug: ', 30: '', 40: 'warning: ', 50: 'error: ', 60: 'fatal: ' };

/**
 * One pino JSON line as a sentence for stderr: "kbuild: warning: <msg> (<field>: <value>, ...)".
 * An error shows its message; its stack only when the log level is debug or
 * trace, where someone asked for it.
 */
export function logSentence(jsonLine: string, level: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine;
  }
  const { level: n, time: _time, msg, err, ...fields } = record;
  const word = typeof n === 'number' ? (LEVEL_WORDS[n] ?? '') : '';
  const details = Object.entries(fields).map(([key, value]) => `${key}: ${fieldText(value)}`);
  const error = errorOf(err);
  if (error !== undefined) details.push(error.message);
  const tail = details.length === 0 ? '' : ` (${details.join(', ')})`;
  const stack = error?.stack !== undefined && (level === 'debug' || level === 'trace') ? `\n${error.stack}` : '';
  return `kbuild: ${word}${typeof msg === 'string' ? msg : ''}${tail}${stack}\n`;
}

function errorOf(err: unknown): { message: string; stack?: string } | undefined {
  if (err === undefined || err === null) return undefined;
  if (typeof err !== 'object') return { message: String(err) };
  const e = err as { message?: unknown; stack?: unknown; code?: unknown };
  const code = typeof e.code === 'string' ? `${e.code}: ` : '';
  const message = `${code}${typeof e.message === 'string' ? e.message.split('\n')[0] ?? '' : JSON.stringify(err)}`;
  return typeof e.stack === 'string' ? { message, stack: e.stack } : { message };
}

/** A kernel identity reads as its label, "debian/6.1.0-47-cloud-amd64/x86_64"; anything else as compact JSON. */
function fieldText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const k = value as Record<string, unknown>;
    if (typeof k['release'] === 'string' && typeof k['distro'] === 'string') return [k['distro'], k['release'], k['arch']].filter((s) => typeof s === 'string').join('/');
  }
  return JSON.stringify(value) ?? String(value);
}
