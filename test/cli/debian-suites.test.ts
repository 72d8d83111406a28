import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex } from '@kbuild/loader';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';

/**
 * Slow, real archive (the mirror and the security root of the host's apt
 * sources): kernels a patched fleet runs that live outside the main suites.
 * sid's Release is past its Valid-Until on this mirror, so the test opts in
 * with KBUILD_DEBIAN_IGNORE_VALID_UNTIL=1, as a snapshot user would.
 */

interface Crawled {
  readonly release: string;
  readonly arch: string;
  readonly source: string;
}

const env = { KBUILD_DEBIAN_IGNORE_VALID_UNTIL: '1' };

/** Newest first, as crawl prints them: the first cloud-amd64 kernel that `suite` is the first to list. */
function firstFrom(kernels: readonly Crawled[], suite: string, pattern: RegExp): Crawled {
  const found = kernels.find((k) => k.source === suite && pattern.test(k.release));
  assert.ok(found !== undefined, `no ${pattern} kernel from ${suite} in: ${kernels.map((k) => `${k.release}@${k.source}`).join(' ')}`);
  return found;
}

describe('debian kernels outside the main suites: -security, -backports, sid (slow: network)', { timeout: 20 * 60_000 }, () => {
  let work = '';
  let security: Crawled;
  let backports: Crawled;
  let sid: Crawled;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-suites-cli-'));
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('crawl lists kernels only bookworm-security, bookworm-backports and sid carry', async (t) => {
    const result = await kbuild(['crawl', 'debian', '--arch', 'x86_64', 'arm64', '--json'], { env });
    assert.equal(result.exitCode, 0, result.stderr);
    const { kernels } = JSON.parse(result.stdout) as { kernels: Crawled[] };
    // crawl names the first suite in search order that lists a kernel: a bookworm-security one is not in bookworm.
    security = firstFrom(kernels, 'bookworm-security', /^6\.1\.0-\d+-cloud-amd64$/);
    backports = firstFrom(kernels, 'bookworm-backports', /^6\.12\.\d+\+deb12-cloud-amd64$/);
    sid = firstFrom(kernels, 'sid', /-cloud-amd64$/);
    const bySuite = new Map<string, number>();
    for (const k of kernels) bySuite.set(k.source, (bySuite.get(k.source) ?? 0) + 1);
    t.diagnostic(`${kernels.length} kernels: ${[...bySuite].map(([s, n]) => `${s} ${n}`).join(', ')}`);
    assert.ok(kernels.some((k) => k.arch === 'arm64' && k.source === 'trixie-security'));
  });

  it('builds them, with sid\'s CO-RE vmlinux.h from the image in linux-binary-<release>', async () => {
    assert.ok(sid !== undefined, 'the crawl test ran first');
    await writeFile(
      join(work, 'kernels.yaml'),
      `probes:
  - name: execve
    source: probes/execve/execve.bpf.c
core:
  btfFrom:
    x86_64: { distro: debian, release: ${sid.release} }
kernels:
${[security, backports, sid].map((k) => `  - { distro: debian, release: ${k.release}, arch: x86_64, btf: true }`).join('\n')}
`,
    );
    const out = join(work, 'out');
    const result = await kbuild(['build', '--kernels', join(work, 'kernels.yaml'), '--store', out, '--json'], { env });
    assert.equal(result.exitCode, 0, result.stderr + result.stdout);
    const index = ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));
    assert.deepEqual(
      index.artifacts.map((a) => a.path).sort(),
      ['core/x86_64/execve.o', ...[security, backports, sid].map((k) => `execve/x86_64/execve_debian_${k.release}.o`)].sort(),
    );
    const core = index.artifacts.find((a) => a.kind === 'core');
    assert.equal(core?.sources?.[0]?.name, `linux-binary-${sid.release}`, 'the kernel image package first (then the UAPI headers)');
    const headersOf = (release: string) => index.artifacts.find((a) => a.kernel.release === release && a.kind === 'non-core')?.sources?.[0]?.name;
    assert.equal(headersOf(security.release), `linux-headers-${security.release}`);
    assert.equal(headersOf(backports.release), `linux-headers-${backports.release}`);
  });
});
