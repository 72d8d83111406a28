import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveMirror, writeIndex, writeRelease, type LocalMirror } from '../helpers/apt-mirror.js';
import { kbuild } from '../helpers/cli.js';

/** A headers stanza is all the release lookup reads; no package behind it is fetched. */
const headers = (release: string): string =>
  [`Package: linux-headers-${release}`, 'Source: linux', 'Version: 9.1.5-1', 'Architecture: amd64', 'Depends: linux-headers-9.1.0-7-common (= 9.1.5-1)',
    `Filename: pool/main/l/linux/linux-headers-${release}_9.1.5-1_amd64.deb`, 'Size: 1', `SHA256: ${'0'.repeat(64)}`].join('\n');

describe('human output: usage errors, release hints, log format', { timeout: 120_000 }, () => {
  let work = '';
  let mirror: LocalMirror;
  let env: Record<string, string> = {};
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-human-'));
    await writeIndex(work, 'bookworm', 'amd64', ['9.1.0-7-cloud-amd64', '9.1.0-7-amd64', '9.1.0-6-cloud-amd64', '9.12.0-1-amd64'].map(headers));
    await writeRelease(work, 'bookworm'); // no InRelease: read only with ALLOW_UNSIGNED, which logs a warning
    mirror = await serveMirror(work);
    env = { KBUILD_CACHE_DIR: join(work, 'cache'), KBUILD_DEBIAN_MIRROR: mirror.url, KBUILD_DEBIAN_SUITES: 'bookworm', KBUILD_DEBIAN_ALLOW_UNSIGNED: '1' };
  });
  after(async () => {
    await mirror?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('a flag typo is one line with a hint, exit 2, no help screen', async () => {
    const typo = await kbuild(['build', '--kernles', 'k.yaml']);
    assert.equal(typo.exitCode, 2);
    assert.equal(typo.stderr, "kbuild: unknown option '--kernles' (Did you mean --kernels?); see kbuild build --help");
    assert.equal(typo.stdout, '');
    const nested = await kbuild(['btf', 'minimize', 'a.o', '--out', 'x']);
    assert.equal(nested.exitCode, 2);
    assert.equal(nested.stderr, "kbuild: required option '--btf <file>' not specified; see kbuild btf minimize --help");
    const command = await kbuild(['biuld']);
    assert.equal(command.exitCode, 2);
    assert.equal(command.stderr, "kbuild: unknown command 'biuld' (Did you mean build?); see kbuild --help");
    const value = await kbuild(['build', '-c', '0']);
    assert.equal(value.exitCode, 2);
    assert.equal(value.stderr, 'kbuild: expected a positive integer, got "0"; see kbuild build --help');
  });

  it('a release the archive does not have names the nearest ones it has; logs are sentences', async () => {
    const result = await kbuild(['btf', 'extract', '--release', '9.1.0-77-cloud-amd64', '--arch', 'x86_64', '-o', join(work, 'x.btf')], { env });
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(result.stderr, /kbuild: kernel 9\.1\.0-77-cloud-amd64 \(x86_64\) not found in debian suites bookworm \([^)]*\); did you mean 9\.1\.0-7-cloud-amd64, 9\.1\.0-6-cloud-amd64 or 9\.1\.0-7-amd64\?\n/);
    assert.match(result.stderr, /^kbuild: warning: debian index NOT authenticated \(KBUILD_DEBIAN_ALLOW_UNSIGNED\) \(url: http:\/\/127\.0\.0\.1:\d+\/debian\/dists\/bookworm\/[^)]+\)$/m);
    assert.doesNotMatch(result.stderr, /^\{/m, 'no JSON log lines');
  });

  it('--log-format json (or KBUILD_LOG_FORMAT=json) writes the log lines as JSON', async () => {
    for (const [args, extra] of [[['--log-format', 'json'], {}], [[], { KBUILD_LOG_FORMAT: 'json' }]] as const) {
      const result = await kbuild(['btf', 'extract', ...args, '--release', '9.1.0-77-cloud-amd64', '--arch', 'x86_64', '-o', join(work, 'x.btf')], {
        env: { ...env, ...extra, KBUILD_CACHE_DIR: join(work, `cache-${args.length}`) },
      });
      assert.equal(result.exitCode, 1, result.stderr);
      const logs = result.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; url: string });
      assert.ok(logs.length > 0, result.stderr);
      assert.equal(logs[0]?.level, 40);
      assert.match(logs[0]?.msg ?? '', /^debian index NOT authenticated/);
      assert.match(logs[0]?.url ?? '', /^http:\/\/127\.0\.0\.1:/);
      assert.doesNotMatch(result.stderr, /kbuild: warning:/);
    }
  });
});
