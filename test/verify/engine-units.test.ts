import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ubuntuBuilder } from '../../builders/ubuntu/index.js';
import { readCpio } from '../../src/archive/cpio.js';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { ConfigError } from '../../src/errors.js';
import { run } from '../../src/exec/exec.js';
import { consoleTail, parseConsole } from '../../src/verify/console-parser.js';
import { mapLayout } from '../../src/verify/legacy-maps.js';
import { writeCpio } from '../../src/verify/cpio-writer.js';
import { writeManifest } from '../../src/verify/manifest.js';
import { qemuAvailable } from '../../src/verify/qemu-command.js';
import type { VerifyCase } from '../../src/verify/types.js';
import { verifierSummary } from '../../src/verify/verifier-log.js';
import { verifyId } from '../../src/verify/verify-id.js';
import { verifyKernel } from '../../src/verify/verify-kernel.js';
import { CHECK } from './engine-fixtures.js';

/** A base64 field as the guest prints it: its length, then the text. */
const b64 = (s: string): string => {
  const text = Buffer.from(s).toString('base64');
  return `${text.length} ${text}`;
};
const aCase = (overrides: Partial<VerifyCase> = {}): VerifyCase => ({
  probe: 'execve',
  mode: 'non-core',
  objectFile: '/nonexistent/execve.o',
  objectSha256: 'a'.repeat(64),
  artifactPath: 'execve/x86_64/execve.o',
  check: CHECK,
  ...overrides,
});

describe('verify engine: initramfs, manifest and console formats', () => {
  it('writes a newc archive the kernel (and kbuild\'s own reader) can unpack', () => {
    const init = Buffer.from('\x7fELF pretend loader');
    const archive = writeCpio([
      { kind: 'dir', name: 'dev' },
      { kind: 'char', name: 'dev/console', major: 5, minor: 1 },
      { kind: 'file', name: '/init', data: init, mode: 0o755 },
      { kind: 'file', name: 'cases/0.o', data: Buffer.alloc(3, 7) },
    ]);
    const entries = [...readCpio(archive)];
    assert.deepEqual(entries.map((e) => e.name), ['dev', 'dev/console', 'init', 'cases/0.o']);
    assert.equal(entries[0]?.mode, 0o040755);
    assert.equal(entries[1]?.mode, 0o020600);
    assert.equal(entries[2]?.mode, 0o100755);
    assert.deepEqual(entries[2]?.data, init);
    assert.deepEqual(entries[3]?.data, Buffer.alloc(3, 7));
    // rdevmajor/rdevminor of dev/console (fields 9 and 10 of its header).
    const console = archive.indexOf('dev/console') - 110;
    assert.equal(archive.toString('latin1', console + 6 + 9 * 8, console + 6 + 11 * 8), '0000000500000001');
    assert.throws(() => writeCpio([{ kind: 'file', name: 'a/../../etc/passwd', data: Buffer.alloc(0) }]), /bad cpio member name/);
  });

  it('writes the policy lines and one case line per case, and refuses a counter map or glob that is not a name', () => {
    const policy = { attachSkip: ['tail_*'], attachOptional: ['sys_enter_open'], autoloadDisable: ['feature_probe'], autoloadOptional: ['entry__*'] };
    const text = writeManifest(
      [
        { index: 0, verifyCase: aCase(), object: '/cases/0.o' },
        { index: 1, verifyCase: aCase({ mode: 'core-external-btf', check: policy }), object: '/cases/1.o', btf: '/cases/1.btf' },
      ],
      { caseTimeoutSeconds: 90.5 },
    );
    assert.equal(
      text,
      'case-timeout 90\ncase 0 non-core /cases/0.o - execve execve_count 5\n' +
        'policy skip tail_*\npolicy optional sys_enter_open\npolicy noautoload feature_probe\npolicy loadoptional entry__*\ncase 1 core-external-btf /cases/1.o /cases/1.btf none - 0\n',
    );
    assert.throws(() => writeManifest([{ index: 0, verifyCase: aCase({ check: { attachSkip: ['a b'] } }), object: '/o' }], { caseTimeoutSeconds: 1 }), /attach\.skip "a b" is not a program name or glob/);
    assert.throws(() => writeManifest([{ index: 0, verifyCase: aCase({ check: { autoloadOptional: ['a\nb'] } }), object: '/o' }], { caseTimeoutSeconds: 1 }), /autoload\.optional "a\\nb" is not a program name or glob/);
    const hostile = aCase({ check: { event: { ...CHECK.event, counterMap: 'x y\nhang' } } });
    assert.throws(() => writeManifest([{ index: 0, verifyCase: hostile, object: '/cases/0.o' }], { caseTimeoutSeconds: 1 }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /probe "execve" \(non-core\): verify counter map "x y\\nhang" is not a BPF map name/);
      return true;
    });
    assert.throws(() => writeManifest([{ index: 0, verifyCase: aCase({ check: { event: { ...CHECK.event, count: 0 } } }), object: '/o' }], { caseTimeoutSeconds: 1 }), /count 0/);
  });

  it('reads results from a console the kernel also prints on, and says when a log chunk was lost', () => {
    const text = [
      '[    0.000000] Linux version 6.1.0',
      'KBUILD-UNAME 6.1.0-50-cloud-amd64',
      `KBUILD-LOG 0 0 ${b64('libbpf: prog load failed\n')}`,
      // A kernel message landing in the middle of a line loses that line.
      `KBUILD-LOG 0 1 ${b64('R6 unbounded memory access').slice(0, 12)}[    3.1] random: crng init done`,
      `KBUILD-LOG 0 2 ${b64('tail\n')}`,
      `KBUILD-RESULT 0 failed 0 3 ${b64('load failed: Permission denied')}`,
      `KBUILD-PROG 1 attached ${b64('handle_exec\nattached (SEC("tp/sched/sched_process_exec"))')}`,
      `KBUILD-PROG 1 loaded ${b64('tail_target\nloaded, not attached: attach.skip')}`,
      `KBUILD-PROG 1 skipped ${b64('x').slice(0, 3)}`,
      `[    3.2] audit: x KBUILD-RESULT 1 ok 7 0 ${b64('1 attached')}`,
      `KBUILD-RESULT 2 inconclusive 0 0 ${b64('the case did not finish within 5 s in the guest')}`,
      'KBUILD-DONE 2',
    ].join('\r\n');
    const report = parseConsole(text);
    assert.equal(report.release, '6.1.0-50-cloud-amd64');
    assert.equal(report.done, true);
    assert.equal(report.cases.get(0)?.result, 'failed');
    assert.equal(report.cases.get(0)?.detail, 'load failed: Permission denied');
    assert.match(report.cases.get(0)?.log ?? '', /^libbpf: prog load failed\n/);
    assert.match(report.cases.get(0)?.log ?? '', /console lost part 1/);
    assert.deepEqual({ result: report.cases.get(1)?.result, events: report.cases.get(1)?.events }, { result: 'ok', events: 7 });
    assert.deepEqual(report.cases.get(1)?.programs, [
      { name: 'handle_exec', result: 'attached', detail: 'attached (SEC("tp/sched/sched_process_exec"))' },
      { name: 'tail_target', result: 'loaded', detail: 'loaded, not attached: attach.skip' },
    ], 'a damaged program line is dropped, not misread');
    assert.equal(report.cases.get(2)?.result, 'inconclusive');
    assert.doesNotMatch(consoleTail(text), /KBUILD-PROG/);
    assert.doesNotMatch(consoleTail(text), /KBUILD-LOG/);
    const panicked = parseConsole('KBUILD-START 0\r\n[ 1.0] Kernel panic - not syncing: Fatal exception');
    assert.equal(panicked.done, false);
    assert.deepEqual([...panicked.started], [0], 'the case that was running when the kernel died is known');
  });

  it('names the verifier\'s complaint in a failed load', () => {
    const log = [
      "libbpf: prog 'broken': BPF program load failed: Permission denied",
      "libbpf: prog 'broken': -- BEGIN PROG LOAD LOG --",
      '14: (79) r1 = *(u64 *)(r6 +0)',
      'R6 unbounded memory access, make sure to bounds check any such access',
      'processed 14 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1',
      '-- END PROG LOAD LOG --',
      "libbpf: prog 'broken': failed to load: -13",
    ].join('\n');
    assert.equal(verifierSummary(log), 'R6 unbounded memory access, make sure to bounds check any such access');
    assert.equal(verifierSummary('libbpf: failed to find BTF for extern\n'), 'failed to find BTF for extern');
  });

  it('gives each (object, mode, BTF, image, loader) its own verifyId', () => {
    const base = { objectSha256: 'a'.repeat(64), mode: 'core-external-btf' as const, btfSha256: 'b'.repeat(64), imageSha256: 'c'.repeat(64), guestLoaderSha256: 'd'.repeat(64) };
    const ids = [base, { ...base, mode: 'core-kernel-btf' as const }, { ...base, btfSha256: 'e'.repeat(64) }, { ...base, imageSha256: 'e'.repeat(64) }, { ...base, guestLoaderSha256: 'e'.repeat(64) }].map(verifyId);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(verifyId(base), verifyId({ ...base }));
  });
});

describe('verify engine: what cannot be verified is said, without booting', () => {
  it('reports not-verifiable for a distro whose builder fetches no images', async () => {
    const result = await verifyKernel({ kernel: { distro: 'ubuntu', release: '5.15.0-1050-aws', arch: 'x86_64' }, cases: [aCase()], timeoutMs: 1000, cacheDir: '/nonexistent' }, { builder: ubuntuBuilder });
    assert.equal(result.outcome, 'not-verifiable');
    assert.equal(result.results[0]?.result, 'not-verifiable');
    assert.match(result.results[0]?.detail ?? '', /ubuntu builder cannot fetch kernel images/);
  });

  it('reports not-verifiable when no external BTF can be cut for an object, without booting', async () => {
    const work = await mkdtemp(join(tmpdir(), 'kbuild-verify-units-'));
    try {
      const objectFile = join(work, 'junk.o');
      await writeFile(objectFile, 'not an ELF object');
      let booted = false;
      const result = await verifyKernel(
        { kernel: { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' }, cases: [aCase({ mode: 'core-external-btf', objectFile })], timeoutMs: 60_000, cacheDir: cacheRoot() },
        { onQemuStart: () => (booted = true) },
      );
      assert.equal(booted, false);
      assert.equal(result.outcome, 'not-verifiable');
      assert.equal(result.results[0]?.result, 'not-verifiable');
      assert.match(result.results[0]?.detail ?? '', /no external BTF could be cut from the kernel image: bpftool gen min_core_btf failed/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it("tells gobpf's per-map 'maps/<name>' sections apart, and says gobpf's loader takes no external BTF, without booting", async () => {
    const work = await mkdtemp(join(tmpdir(), 'kbuild-verify-units-'));
    try {
      const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
      const compile = async (name: string): Promise<string> => {
        const file = join(work, `${name}.o`);
        await run('clang', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', join(fixtures, `${name}.bpf.c`), '-o', file]);
        return file;
      };
      const objectFile = await compile('per-map-sections');
      assert.equal(await mapLayout(objectFile), 'per-map-sections');
      assert.equal(await mapLayout(await compile('legacy-maps')), 'legacy');
      assert.equal(await mapLayout(await compile('policy')), 'btf');
      const objectSha256 = createHash('sha256').update(await readFile(objectFile)).digest('hex');
      let booted = false;
      const result = await verifyKernel(
        {
          kernel: { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64' },
          cases: [aCase({ objectFile, objectSha256, mode: 'core-external-btf' })],
          timeoutMs: 60_000,
          cacheDir: cacheRoot(),
        },
        { onQemuStart: () => (booted = true) },
      );
      assert.equal(booted, false);
      assert.equal(result.results[0]?.result, 'not-verifiable');
      assert.match(result.results[0]?.detail ?? '', /gobpf's ELF loader, .* takes no external BTF/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('knows when QEMU for an arch is missing', async () => {
    assert.equal(await qemuAvailable('x86_64'), true);
    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      assert.match(String(await qemuAvailable('arm64')), /qemu-system-aarch64 is not installed \(Debian package qemu-system-arm/);
      const result = await verifyKernel({ kernel: { distro: 'debian', release: '6.1.0-50-arm64', arch: 'arm64' }, cases: [aCase()], timeoutMs: 1000, cacheDir: '/nonexistent' });
      assert.equal(result.outcome, 'not-verifiable');
      assert.match(result.results[0]?.detail ?? '', /not installed/);
    } finally {
      process.env['PATH'] = path;
    }
  });
});
