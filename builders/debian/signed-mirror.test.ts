import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { xz } from '@napi-rs/lzma';
import { ChecksumError, KernelNotFoundError } from '../../src/errors.js';
import type { KernelIdentity } from '../../src/kernel/identity.js';
import { UntrustedReleaseError, type UntrustedReason } from '../../src/repo/apt/errors.js';
import { buildDeb, countingFetch, serveMirror, stanza, writeIndex, writeRelease, type LocalMirror } from '../../test/helpers/apt-mirror.js';
import { closeSigningKey, createSigningKey, type SigningKey } from '../../test/helpers/signing-key.js';
import { createDebianBuilder, type DebianBuilderOptions } from './index.js';

/**
 * The trust chain against a mirror we sign ourselves: what an attacker on the
 * plain-http path could serve, and that each such answer is refused before a
 * single package is fetched.
 */

const kernel: KernelIdentity = { distro: 'debian', release: '9.1.0-7-cloud-amd64', arch: 'x86_64' };
const INRELEASE = 'dists/bookworm/InRelease';
const PACKAGES = 'dists/bookworm/main/binary-amd64/Packages.xz';
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('debian InRelease verification against a signed local mirror', { timeout: 120_000 }, () => {
  let work = '';
  let mirror: LocalMirror;
  let archive: SigningKey;
  let rogue: SigningKey;
  /** Bytes served instead of the file at a path; null answers 404. */
  let served = new Map<string, Buffer | null>();
  const variants = new Map<string, Buffer>();
  let warnings: string[] = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-signed-'));
    [archive, rogue] = await Promise.all([createSigningKey(work, 'archive'), createSigningKey(work, 'rogue')]);
    const image = await buildDeb(work, {
      name: `linux-image-${kernel.release}-unsigned`,
      version: '9.1.5-1',
      arch: 'amd64',
      files: { [`boot/vmlinuz-${kernel.release}`]: 'MZ signed-mirror bzImage' },
    });
    await writeIndex(work, 'bookworm', 'amd64', [stanza(image)]);
    const inRelease = (): Promise<Buffer> => readFile(join(work, 'mirror', INRELEASE));
    await writeRelease(work, 'bookworm', { key: rogue });
    variants.set('rogue', await inRelease());
    await writeRelease(work, 'bookworm', { key: archive, validUntil: new Date(Date.now() - 60_000) });
    variants.set('expired', await inRelease());
    await writeRelease(work, 'bookworm', { key: archive, byHash: true });
    variants.set('by-hash', await inRelease());
    await writeRelease(work, 'bookworm', { key: archive });
    await writeIndex(work, 'bullseye', 'amd64', []);
    await writeRelease(work, 'bullseye', { key: archive });
    mirror = await serveMirror(work, (path, bytes) => {
      const override = served.get(path);
      return override === null ? undefined : (override ?? bytes);
    });
  });
  beforeEach(() => {
    served = new Map();
    warnings = [];
  });
  after(async () => {
    await mirror.close();
    await Promise.all([closeSigningKey(archive), closeSigningKey(rogue)]);
    await rm(work, { recursive: true, force: true });
  });

  async function attempt(options: Partial<DebianBuilderOptions> = {}, cacheDir?: string) {
    const counter = countingFetch();
    const builder = createDebianBuilder({
      env: {},
      suites: ['bullseye', 'bookworm'],
      keyrings: [archive.keyring],
      onWarning: (message) => warnings.push(message),
      ...options,
      http: { attempts: 1, fetch: counter.fetch },
    });
    const context = { cacheDir: cacheDir ?? (await mkdtemp(join(work, 'cache-'))), mirror: mirror.url };
    const paths = (): string[] => counter.urls.map((u) => u.slice(mirror.url.length + 1));
    return { fetch: () => builder.fetchImage(kernel, context), paths, cacheDir: context.cacheDir };
  }

  async function rejectsUntrusted(run: () => Promise<unknown>, reason: UntrustedReason, ...parts: string[]): Promise<void> {
    await assert.rejects(run(), (err: unknown) => {
      assert.ok(err instanceof UntrustedReleaseError, String(err));
      assert.equal(err.reason, reason, err.message);
      assert.equal(err.retryable, false);
      for (const part of parts) assert.ok(err.message.includes(part), `"${part}" missing from: ${err.message}`);
      return true;
    });
  }

  const noPackages = (paths: string[]): void => assert.deepEqual(paths.filter((p) => p.startsWith('pool/')), []);

  it('accepts a validly signed suite and records who signed its index', async () => {
    const run = await attempt();
    const image = await run.fetch();
    assert.equal(await readFile(image.path, 'utf8'), 'MZ signed-mirror bzImage');
    assert.deepEqual(run.paths().slice(0, 4), ['dists/bullseye/InRelease', 'dists/bullseye/main/binary-amd64/Packages.xz', INRELEASE, PACKAGES]);
    const indexes = join(run.cacheDir, 'debian', 'indexes');
    const [id] = await readdir(indexes);
    const cached = JSON.parse(await readFile(join(indexes, id ?? '', 'bookworm_amd64_kernels.json'), 'utf8'));
    assert.equal(cached.trust, 'signed');
    assert.deepEqual(cached.signedBy, [archive.fingerprint]);
    assert.deepEqual(warnings, []);
  });

  it('rejects a Packages.xz that differs from what the signed InRelease lists, before any package', async () => {
    const real = await readFile(join(work, 'mirror', PACKAGES));
    const flipped = Buffer.from(real);
    flipped[flipped.length - 30] = (flipped[flipped.length - 30] ?? 0) ^ 0x01;
    // The attacker's consistent swap: an index naming their own package by its own hash.
    const evil = 'Package: linux-image-9.1.0-7-cloud-amd64-unsigned\nVersion: 9.1.5-1\nArchitecture: amd64\n' +
      `Filename: pool/main/l/linux/evil.deb\nSize: 4\nSHA256: ${'e'.repeat(64)}\n`;
    for (const [bytes, why] of [[flipped, `sha256 mismatch, expected ${sha256(real)}`], [await xz.compress(evil), 'expected ']] as const) {
      served.set(PACKAGES, bytes);
      const run = await attempt();
      await assert.rejects(run.fetch(), (err: unknown) => {
        assert.ok(err instanceof ChecksumError, String(err));
        assert.ok(err.message.includes(`${mirror.url}/${PACKAGES}: ${why}`), err.message);
        return true;
      });
      noPackages(run.paths());
      await assert.rejects(readdir(join(run.cacheDir, 'debian', 'resolved')), { code: 'ENOENT' });
      const [id] = await readdir(join(run.cacheDir, 'debian', 'indexes'));
      assert.deepEqual(await readdir(join(run.cacheDir, 'debian', 'indexes', id ?? '')), ['bullseye_amd64_kernels.json']);
    }
  });

  it('rejects an InRelease signed by a key outside the keyrings, naming suite, mirror and keyring', async () => {
    served.set(INRELEASE, variants.get('rogue') ?? null);
    const run = await attempt();
    await rejectsUntrusted(run.fetch, 'signature', 'debian bookworm', mirror.url, archive.keyring, `unknown key ${rogue.fingerprint.slice(-16)}`);
    assert.ok(!run.paths().includes(PACKAGES));
    noPackages(run.paths());
  });

  it('rejects an InRelease with one byte of its signed text changed', async () => {
    const original = await readFile(join(work, 'mirror', INRELEASE));
    const text = original.toString('latin1');
    const at = text.indexOf('main/binary-amd64/Packages.xz') - 20; // inside the hash of the index
    const tampered = Buffer.from(original);
    tampered[at] = (text.charCodeAt(at) === 0x30 ? 0x31 : 0x30);
    served.set(INRELEASE, tampered);
    const run = await attempt();
    await rejectsUntrusted(run.fetch, 'signature', 'bad signature', 'the signed text was altered');
    noPackages(run.paths());
  });

  it('rejects text outside the signed message instead of ignoring it', async () => {
    const original = await readFile(join(work, 'mirror', INRELEASE));
    served.set(INRELEASE, Buffer.concat([original, Buffer.from('\nSHA256:\n 00 1 main/binary-amd64/Packages.xz\n')]));
    await rejectsUntrusted((await attempt()).fetch, 'format', 'has data after its signature');
    served.set(INRELEASE, Buffer.concat([Buffer.from('Codename: bookworm\n\n'), original]));
    await rejectsUntrusted((await attempt()).fetch, 'format', 'does not start with');
  });

  it("rejects another suite's validly signed Release replayed under bookworm", async () => {
    served.set(INRELEASE, await readFile(join(work, 'mirror', 'dists/bullseye/InRelease')));
    const run = await attempt();
    await rejectsUntrusted(run.fetch, 'suite', 'is signed for suite stable (codename bullseye), not bookworm');
    noPackages(run.paths());
  });

  it('skips a suite whose Release has expired, with a warning, unless told to ignore Valid-Until', async () => {
    served.set(INRELEASE, variants.get('expired') ?? null);
    await assert.rejects((await attempt()).fetch(), (err: unknown) => {
      assert.ok(err instanceof KernelNotFoundError, String(err));
      assert.match(err.message, /not searched: bookworm \(Release expired on \d{4}-.*a stale mirror or a replayed index\)$/);
      return true;
    });
    assert.deepEqual(warnings, ['debian Release expired, suite skipped']);
    const image = await (await attempt({ ignoreValidUntil: true })).fetch();
    assert.equal(image.package.suite, 'bookworm');
  });

  it('fetches the index by hash when the Release offers it', async () => {
    served.set(INRELEASE, variants.get('by-hash') ?? null);
    const run = await attempt();
    await run.fetch();
    assert.ok(run.paths().some((p) => /^dists\/bookworm\/main\/binary-amd64\/by-hash\/SHA256\/[0-9a-f]{64}$/.test(p)), run.paths().join(' '));
    assert.ok(!run.paths().includes(PACKAGES));
  });

  it('refuses a mirror without InRelease unless KBUILD_DEBIAN_ALLOW_UNSIGNED=1, and never mixes the two caches', async () => {
    served.set(INRELEASE, null);
    served.set('dists/bullseye/InRelease', null);
    const strict = await attempt();
    await assert.rejects(strict.fetch(), (err: unknown) => {
      assert.ok(err instanceof KernelNotFoundError, String(err));
      assert.match(err.message, /not searched: bullseye \(no InRelease\), bookworm \(no InRelease\)$/);
      assert.ok(err.suggestions.some((s) => s.includes('KBUILD_DEBIAN_ALLOW_UNSIGNED=1')));
      return true;
    });
    const loose = await attempt({ env: { KBUILD_DEBIAN_ALLOW_UNSIGNED: '1' } }, strict.cacheDir);
    assert.equal(await readFile((await loose.fetch()).path, 'utf8'), 'MZ signed-mirror bzImage');
    assert.ok(!loose.paths().some((p) => p.endsWith('InRelease')));
    assert.deepEqual(warnings, Array(2).fill('debian index NOT authenticated (KBUILD_DEBIAN_ALLOW_UNSIGNED)'));

    // The unsigned answer is cached, but a verifying run must not take it.
    served = new Map();
    const verifying = await attempt({}, strict.cacheDir);
    await verifying.fetch();
    assert.deepEqual(verifying.paths().slice(0, 4), ['dists/bullseye/InRelease', 'dists/bullseye/main/binary-amd64/Packages.xz', INRELEASE, PACKAGES]);
  });

  it('names a missing keyring, and takes keyrings from KBUILD_DEBIAN_KEYRING', async () => {
    const missing = join(work, 'no-such-keyring.gpg');
    await rejectsUntrusted((await attempt({ keyrings: [missing] })).fetch, 'keyring', missing, 'debian bullseye');
    const cacheDir = await mkdtemp(join(work, 'cache-'));
    const fromEnv = (keyrings: string) =>
      createDebianBuilder({ env: { KBUILD_DEBIAN_KEYRING: keyrings }, suites: ['bookworm'], http: { attempts: 1 } })
        .fetchImage(kernel, { cacheDir, mirror: mirror.url });
    await rejectsUntrusted(() => fromEnv(rogue.keyring), 'signature', rogue.keyring);
    assert.equal((await fromEnv(`${rogue.keyring}:${archive.keyring}`)).package.suite, 'bookworm');
  });
});
