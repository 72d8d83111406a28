import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, setLogFormat } from './log.js';
import { logSentence } from './log-sentence.js';

function captured(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('log lines', () => {
  it('read as sentences: level word, message, fields, an error by its message without its stack', () => {
    const err = { type: 'Error', message: 'boom\nsecond line', code: 'E_NETWORK', stack: 'Error: boom\n    at x (y.js:1:1)' };
    const line = JSON.stringify({ level: 40, time: 1, msg: 'kernel image not fetched', kernel: { distro: 'debian', release: '6.1.0-47-amd64', arch: 'x86_64' }, err });
    assert.equal(logSentence(line, 'warn'), 'kbuild: warning: kernel image not fetched (kernel: debian/6.1.0-47-amd64/x86_64, E_NETWORK: boom)\n');
    assert.equal(logSentence(line, 'debug'), 'kbuild: warning: kernel image not fetched (kernel: debian/6.1.0-47-amd64/x86_64, E_NETWORK: boom)\nError: boom\n    at x (y.js:1:1)\n');
    assert.equal(logSentence(JSON.stringify({ level: 30, time: 1, msg: 'up to date', job: 'a debian x', n: 3 }), 'info'), 'kbuild: up to date (job: a debian x, n: 3)\n');
  });

  it('the logger writes sentences by default and pino JSON with the json format', () => {
    const text = captured();
    createLogger('info', text.stream).warn({ url: 'http://h/x' }, 'index NOT authenticated');
    assert.equal(text.text(), 'kbuild: warning: index NOT authenticated (url: http://h/x)\n');
    setLogFormat('json');
    try {
      const json = captured();
      createLogger('info', json.stream).warn({ url: 'http://h/x' }, 'index NOT authenticated');
      const record = JSON.parse(json.text()) as Record<string, unknown>;
      assert.equal(record['level'], 40);
      assert.equal(record['msg'], 'index NOT authenticated');
      assert.equal(record['url'], 'http://h/x');
    } finally {
      setLogFormat('text');
    }
  });
});
