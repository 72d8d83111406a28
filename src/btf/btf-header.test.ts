import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { run } from '../exec/exec.js';
import { checkBtf, readBtfHeader } from './btf-header.js';

// The running kernel's BTF: a real blob, independent of the image extraction under test.
const HOST_BTF = '/sys/kernel/btf/vmlinux';
let blob: Buffer;
before(async () => {
  blob = await readFile(HOST_BTF);
});

function patched(offset: number, bytes: number[]): Buffer {
  const copy = Buffer.from(blob);
  copy.set(bytes, offset);
  return copy;
}

describe('checkBtf on the host kernel BTF', () => {
  it('accepts the whole blob and counts the same types as bpftool', async () => {
    const check = checkBtf(blob);
    assert.equal(check.kind, 'valid');
    assert.ok(check.kind === 'valid');
    assert.equal(check.header.totalLength, blob.length);
    const { stdout } = await run('bpftool', ['btf', 'dump', 'file', HOST_BTF]);
    const ids = [...stdout.matchAll(/^\[(\d+)\] /gm)].map((m) => Number(m[1]));
    assert.equal(check.typeCount, ids.at(-1));
  });

  it('finds the blob at an offset inside other bytes', () => {
    const framed = Buffer.concat([Buffer.alloc(13, 0x9f), blob, Buffer.alloc(100, 0xff)]);
    const check = checkBtf(framed, 13);
    assert.ok(check.kind === 'valid');
    assert.equal(check.header.totalLength, blob.length);
  });

  it('reports a blob cut short as truncated, not invalid', () => {
    const check = checkBtf(blob.subarray(0, blob.length - 1));
    assert.equal(check.kind, 'truncated');
  });

  it('rejects a wrong magic, version or header length', () => {
    assert.equal(typeof readBtfHeader(patched(0, [0xeb, 0x9f]), 0), 'string');
    assert.match(String(readBtfHeader(patched(2, [2]), 0)), /unsupported version 2/);
    assert.match(String(readBtfHeader(patched(4, [25, 0, 0, 0]), 0)), /implausible hdr_len 25/);
  });

  it('rejects a type record with an unknown kind', () => {
    const header = readBtfHeader(blob, 0);
    assert.ok(typeof header !== 'string');
    // info of the first type: kind lives in bits 24-28; 0x1f is far past BTF_KIND_ENUM64.
    const check = checkBtf(patched(header.hdrLen + header.typeOff + 7, [0x1f]));
    assert.ok(check.kind === 'invalid');
    assert.match(check.reason, /unknown kind 31/);
  });

  it('rejects a string section that does not start with NUL', () => {
    const header = readBtfHeader(blob, 0);
    assert.ok(typeof header !== 'string');
    const check = checkBtf(patched(header.hdrLen + header.strOff, [0x41]));
    assert.ok(check.kind === 'invalid');
    assert.match(check.reason, /does not start with NUL/);
  });

  it('rejects a type section whose length cuts a record in half', () => {
    const header = readBtfHeader(blob, 0);
    assert.ok(typeof header !== 'string');
    // 8 bytes less: still aligned, but no record is that short, so the last one now crosses the end.
    const shorter = Buffer.alloc(4);
    shorter.writeUInt32LE(header.typeLen - 8);
    const check = checkBtf(patched(12, [...shorter]));
    assert.equal(check.kind, 'invalid');
  });
});
