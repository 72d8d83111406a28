import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { startCommandProgress } from './command-progress.js';
import { BarReporter, LineReporter } from './reporters.js';
import { publishTransfer, transferName } from './transfer-channel.js';
import { TransferLines } from './transfer-lines.js';
import { createVerifyProgress } from '../verify/stage/progress.js';

/** A stream that says it is (or is not) a terminal and keeps what was written. */
function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text(): string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { text(): string };
  const chunks: Buffer[] = [];
  (stream as unknown as PassThrough).on('data', (c: Buffer) => chunks.push(c));
  Object.assign(stream, { isTTY, columns: 100, rows: 30, text: () => Buffer.concat(chunks).toString('utf8') });
  // cli-progress moves the cursor with these on a terminal.
  Object.assign(stream, { cursorTo: () => true, moveCursor: () => true, clearLine: () => true, clearScreenDown: () => true });
  return stream;
}

const MiB = 1 << 20;
const big = (phase: 'start' | 'data' | 'end', bytes: number) =>
  publishTransfer({ direction: 'download', phase, target: 'http://127.0.0.1/debian/pool/linux-image-6.1-dbg.deb', bytes, total: 280 * MiB });

describe('transfer progress', () => {
  it('without a terminal: a download that runs past a second gets a line then one per quarter; a quick one only its end line', () => {
    const lines: string[] = [];
    let now = 0;
    const writer = new TransferLines((l) => lines.push(l), () => now);
    const target = 'http://h/debian/pool/main/l/linux-image-6.1-dbg_6.1.176-1_amd64.deb';
    writer.handle({ direction: 'download', phase: 'start', target, bytes: 0, total: 100 * MiB });
    for (let b = 0; b <= 100 * MiB; b += 5 * MiB) {
      writer.handle({ direction: 'download', phase: 'data', target, bytes: b, total: 100 * MiB });
      now += 200; // 5 MiB every 0.2 s: slow from 25 MiB on
    }
    writer.handle({ direction: 'download', phase: 'end', target, bytes: 100 * MiB, total: 100 * MiB });
    const quick = 'http://h/debian/pool/main/l/linux-headers-6.1.0-47-amd64_6.1.176-1_amd64.deb';
    writer.handle({ direction: 'download', phase: 'start', target: quick, bytes: 0, total: 40 * MiB });
    for (let b = 0; b <= 40 * MiB; b += 5 * MiB) writer.handle({ direction: 'download', phase: 'data', target: quick, bytes: b, total: 40 * MiB });
    writer.handle({ direction: 'download', phase: 'end', target: quick, bytes: 40 * MiB, total: 40 * MiB });
    writer.handle({ direction: 'download', phase: 'start', target: 'http://h/InRelease', bytes: 0, total: 1000 });
    writer.handle({ direction: 'download', phase: 'data', target: 'http://h/InRelease', bytes: 1000, total: 1000 });
    writer.handle({ direction: 'download', phase: 'end', target: 'http://h/InRelease', bytes: 1000, total: 1000 });
    writer.handle({ direction: 'upload', phase: 'start', target: 's3://b/p/index.json', bytes: 0, total: 10 });
    writer.handle({ direction: 'upload', phase: 'end', target: 's3://b/p/index.json', bytes: 10, total: 10 });
    assert.deepEqual(lines.slice(0, 3), [
      'download linux-image-6.1-dbg_6.1.176-1_amd64.deb: 25% (25.0 MiB of 100.0 MiB)',
      'download linux-image-6.1-dbg_6.1.176-1_amd64.deb: 50% (50.0 MiB of 100.0 MiB)',
      'download linux-image-6.1-dbg_6.1.176-1_amd64.deb: 75% (75.0 MiB of 100.0 MiB)',
    ]);
    assert.equal(lines[3], 'downloaded linux-image-6.1-dbg_6.1.176-1_amd64.deb (100.0 MiB in 4.2s)');
    assert.equal(lines[4], 'downloaded linux-headers-6.1.0-47-amd64_6.1.176-1_amd64.deb (40.0 MiB in 0.0s)', 'no percentages for what took no time');
    assert.match(lines[5] ?? '', /^downloaded InRelease \(1000 B/);
    assert.match(lines[6] ?? '', /^stored s3:\/\/b\/p\/index\.json \(10 B/);
    assert.equal(lines.length, 7);
  });

  it('the first line of a slow download comes as soon as it is slow, whatever its quarter', () => {
    const lines: string[] = [];
    let now = 0;
    const writer = new TransferLines((l) => lines.push(l), () => now);
    const target = 'http://h/pool/linux-image-7.2.0-1-amd64-unsigned_7.2.1-1_amd64.deb';
    const GiB = 1024 * MiB;
    writer.handle({ direction: 'download', phase: 'start', target, bytes: 0 });
    writer.handle({ direction: 'download', phase: 'data', target, bytes: MiB });
    now = 1500;
    writer.handle({ direction: 'download', phase: 'data', target, bytes: 2 * MiB });
    writer.handle({ direction: 'download', phase: 'data', target, bytes: 3 * MiB });
    assert.deepEqual(lines, ['download linux-image-7.2.0-1-amd64-unsigned_7.2.1-1_amd64.deb: 2.0 MiB']);
    lines.length = 0;
    writer.handle({ direction: 'download', phase: 'start', target: `${target}.2`, bytes: 0, total: GiB });
    now = 3000;
    writer.handle({ direction: 'download', phase: 'data', target: `${target}.2`, bytes: 100 * MiB, total: GiB });
    writer.handle({ direction: 'download', phase: 'data', target: `${target}.2`, bytes: 200 * MiB, total: GiB });
    writer.handle({ direction: 'download', phase: 'data', target: `${target}.2`, bytes: 300 * MiB, total: GiB });
    assert.deepEqual(lines.map((l) => /: (\d+)%/.exec(l)?.[1]), ['9', '29']);
  });

  it('the verify stage shows the kernel images it downloads', () => {
    const stream = fakeStream(false);
    const progress = createVerifyProgress(stream);
    progress.start(1);
    publishTransfer({ direction: 'download', phase: 'start', target: 'http://h/small.deb', bytes: 0, total: 1000 });
    publishTransfer({ direction: 'download', phase: 'end', target: 'http://h/small.deb', bytes: 1000, total: 1000 });
    big('start', 0);
    big('end', 280 * MiB);
    progress.finish();
    big('start', 0);
    big('end', 280 * MiB);
    assert.match(stream.text(), /^kbuild: verifying in 1 kernel\nkbuild: downloaded linux-image-6\.1-dbg\.deb \(280\.0 MiB in [0-9.]+s\)\n$/);
  });

  it('names apt by-hash indexes after the folder they index', () => {
    assert.equal(transferName('http://h/debian/dists/bullseye/main/binary-amd64/by-hash/SHA256/1c3405444297ead864711c18e64bce4810db63b48340a2f9d81182d9f235ad71'), 'main-binary-amd64 index (1c340544…)');
  });

  it('strips control characters from names that come from mirrors', () => {
    assert.equal(transferName('http://h/a/evil%1b%5b2Jname.deb'), 'evil?[2Jname.deb');
  });

  it('on a terminal: a bar with bytes and percentage while a download runs, then its end line', async () => {
    const stream = fakeStream(true);
    const progress = startCommandProgress(stream);
    progress.note('crawling debian x86_64');
    big('start', 0);
    big('data', 140 * MiB);
    await new Promise((r) => setTimeout(r, 250)); // the bars redraw on a timer
    big('end', 280 * MiB);
    progress.close();
    const text = stream.text();
    assert.match(text, /crawling debian x86_64\n/);
    assert.match(text, /50% \| 140\.0 MiB of 280\.0 MiB \| linux-image-6\.1-dbg\.deb/);
    assert.match(text, /downloaded linux-image-6\.1-dbg\.deb \(280\.0 MiB in [0-9.]+s\)/);
  });

  it('without a terminal: the same events as kbuild: lines, and nothing after close', () => {
    const stream = fakeStream(false);
    const progress = startCommandProgress(stream);
    big('start', 0);
    big('end', 280 * MiB);
    progress.close();
    big('start', 0);
    big('end', 280 * MiB);
    assert.match(stream.text(), /^kbuild: downloaded linux-image-6\.1-dbg\.deb \(280\.0 MiB in [0-9.]+s\)\n$/);
  });

  it('a build on a terminal shows the running download in its job bar; on a pipe big downloads and uploads get lines', async () => {
    const tty = fakeStream(true);
    const bar = new BarReporter(tty);
    bar.start(3);
    big('start', 0);
    big('data', 70 * MiB);
    await new Promise((r) => setTimeout(r, 250));
    bar.finish();
    assert.match(tty.text(), /0\/3 jobs \| download linux-image-6\.1-dbg\.deb 70\.0 MiB of 280\.0 MiB/);

    const pipe = fakeStream(false);
    const lines = new LineReporter(pipe);
    lines.start(3);
    publishTransfer({ direction: 'download', phase: 'start', target: 'http://h/small.deb', bytes: 0, total: 1000 });
    publishTransfer({ direction: 'download', phase: 'end', target: 'http://h/small.deb', bytes: 1000, total: 1000 });
    publishTransfer({ direction: 'upload', phase: 'start', target: 's3://b/p/core/x86_64/execve.o', bytes: 0, total: 2048 });
    publishTransfer({ direction: 'upload', phase: 'end', target: 's3://b/p/core/x86_64/execve.o', bytes: 2048, total: 2048 });
    big('start', 0);
    lines.finish();
    big('end', 280 * MiB);
    assert.match(pipe.text(), /^kbuild: 3 jobs\nkbuild: stored s3:\/\/b\/p\/core\/x86_64\/execve\.o \(2\.0 KiB in [0-9.]+s\)\n$/);
  });
});
