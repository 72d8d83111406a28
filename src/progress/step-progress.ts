import cliProgress from 'cli-progress';
import { printable } from './transfer-channel.js';

/**
 * Progress of a command made of a few long steps (one builder image per
 * distro): on a terminal one bar over the steps showing the latest output
 * line, elsewhere every output line as `[step] line`.
 */
export interface StepProgress {
  /** An output line of the running step (docker build output, a note). */
  line(step: string, text: string): void;
  /** The step ended; `summary` stays on screen. */
  done(step: string, summary: string): void;
  close(): void;
}

export function startStepProgress(total: number, unit: string, stream: NodeJS.WriteStream = process.stderr): StepProgress {
  if (stream.isTTY !== true) {
    return {
      line: (step, text) => stream.write(`[${step}] ${printable(text)}\n`),
      done: (step, summary) => stream.write(`[${step}] ${printable(summary)}\n`),
      close: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { stream, format: ` {bar} {value}/{total} ${unit} | {current}`, hideCursor: true, clearOnComplete: true, gracefulExit: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { current: '' });
  const width = (): number => Math.max(20, (stream.columns ?? 100) - 40);
  return {
    line: (step, text) => bar.update({ current: `[${step}] ${printable(text)}`.slice(0, width()) }),
    done: (step, summary) => {
      stream.write(`\r\x1b[K[${step}] ${printable(summary)}\n`);
      bar.increment(1, { current: '' });
    },
    close: () => bar.stop(),
  };
}
