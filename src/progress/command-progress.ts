import { TransferBars } from './transfer-bars.js';
import { onTransfer } from './transfer-channel.js';
import { TransferLines } from './transfer-lines.js';

/**
 * Progress of a command that is not a job run (fetch, crawl, btf, images):
 * its own steps as notes, and every download and upload it causes, as bars
 * on a terminal and plain lines otherwise. Always stderr: stdout carries the
 * command's result (and `--json`).
 */
export interface CommandProgress {
  /** One line about a step ("reading index …", "crawling debian x86_64"). */
  note(line: string): void;
  close(): void;
}

export function startCommandProgress(stream: NodeJS.WriteStream = process.stderr): CommandProgress {
  if (stream.isTTY === true) {
    const bars = new TransferBars(stream);
    const stop = onTransfer((event) => bars.handle(event));
    return {
      note: (line) => bars.note(line),
      close: () => {
        stop();
        bars.stop();
      },
    };
  }
  const write = (line: string): void => {
    stream.write(`kbuild: ${line}\n`);
  };
  const lines = new TransferLines(write);
  const stop = onTransfer((event) => lines.handle(event));
  return { note: write, close: stop };
}
