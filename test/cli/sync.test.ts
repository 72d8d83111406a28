import assert from 'node:assert/strict';
import { execa } from 'execa';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactIndex } from '@kbuild/loader';
import { writeSignedIndex } from '../../src/publish/signed-index.js';
import { loadSigningKey } from '../../src/sign/signing-key.js';
import { openStore } from '../../src/store/open-store.js';
import { CLI, kbuild, REPO_ROOT } from '../helpers/cli.js';

/**
 * Slow, real archive: `kbuild sync` over a small filter (bookworm's own
 * cloud-amd64 kernels, two or three) after `kbuild build` put one of them in
 * the index. It must build exactly the others, then nothing.
 */

const FILTER = ['--distro', 'debian', '--arch', 'x86_64', '--suite', 'bookworm', '--flavour', 'cloud-amd64'];
const HELD = '6.1.0-50-cloud-amd64';

interface SyncReport {
  readonly round: number;
  readonly crawled: number;
  readonly alreadyBuilt: number;
  readonly added: { release: string; arch: string; source: string }[];
  readonly build?: { failed: number };
}

describe('kbuild sync (slow: network)', { timeout: 20 * 60_000 }, () => {
  let work = '';
  let out = '';
  let kernels = '';
  let expected: string[] = [];
  const readIndex = async () => ArtifactIndex.parse(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')));

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-sync-'));
    out = join(work, 'out');
    kernels = join(work, 'kernels.yaml');
    await cp(join(REPO_ROOT, 'probes'), join(work, 'probes'), { recursive: true });
    await writeFile(kernels, `probes:\n  - name: execve\n    source: probes/execve/execve.bpf.c\nkernels:\n  - { distro: debian, release: ${HELD}, arch: x86_64, btf: true }\n`);
    const crawl = await kbuild(['crawl', 'debian', '--json', ...FILTER.slice(2)]);
    assert.equal(crawl.exitCode, 0, crawl.stderr);
    const all = (JSON.parse(crawl.stdout) as { kernels: { release: string }[] }).kernels.map((k) => k.release);
    assert.ok(all.includes(HELD), `${HELD} in ${all.join(' ')}`);
    expected = all.filter((r) => r !== HELD).sort();
    assert.ok(expected.length >= 1 && expected.length <= 3, `a small filter: ${expected.join(' ')}`);
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('adds exactly the kernels the index does not hold, keeping the CO-RE object; a second run adds nothing', async () => {
    const build = await kbuild(['build', '--kernels', kernels, '--store', out]);
    assert.equal(build.exitCode, 0, build.stderr + build.stdout);
    const core = (await readIndex()).artifacts.find((a) => a.kind === 'core');

    const dry = await kbuild(['sync', '--kernels', kernels, '--store', out, '--dry-run', ...FILTER]);
    assert.equal(dry.exitCode, 0, dry.stderr);
    assert.deepEqual(dry.stdout.match(/^would add debian \S+/gm)?.map((l) => l.split(' ')[3]).sort(), expected);

    const sync = await kbuild(['sync', '--kernels', kernels, '--store', out, '--no-verify', '--json', ...FILTER]);
    assert.equal(sync.exitCode, 0, sync.stderr + sync.stdout);
    const report = JSON.parse(sync.stdout) as SyncReport;
    assert.deepEqual(report.added.map((k) => k.release).sort(), expected);
    assert.equal(report.alreadyBuilt, 1);
    assert.equal(report.build?.failed, 0);
    const index = await readIndex();
    assert.deepEqual(
      index.artifacts.filter((a) => a.kind === 'non-core').map((a) => a.kernel.release).sort(),
      [HELD, ...expected].sort(),
    );
    assert.equal(index.artifacts.find((a) => a.kind === 'core')?.sha256, core?.sha256, 'vmlinux.h still from kernels.yaml\'s kernel');

    const bytes = await readFile(join(out, 'index.json'));
    const again = await kbuild(['sync', '--kernels', kernels, '--store', out, '--no-verify', '--json', ...FILTER]);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as SyncReport).added, []);
    assert.deepEqual(await readFile(join(out, 'index.json')), bytes, 'nothing new: the index is not rewritten');
  });

  it('a dry run tells what a signed store lacks without its private key', async () => {
    const signed = join(work, 'signed');
    await cp(out, signed, { recursive: true });
    const keygen = await kbuild(['keygen', '--out', join(work, 'keys')]);
    assert.equal(keygen.exitCode, 0, keygen.stderr);
    const store = await openStore(signed);
    const bytes = await readFile(join(signed, 'index.json'));
    await writeSignedIndex(store, ArtifactIndex.parse(JSON.parse(bytes.toString('utf8'))), bytes, await loadSigningKey(join(work, 'keys', 'kbuild-index.key')));
    await store.close();
    const dry = await kbuild(['sync', '--kernels', kernels, '--store', signed, '--dry-run', ...FILTER]);
    assert.equal(dry.exitCode, 0, dry.stderr);
    assert.match(dry.stdout, /^0 new of [0-9]+ kernels crawled$/m);
  });

  it('--interval follows until SIGTERM, one JSON line per round, and exits 0', async () => {
    const child = execa('node', [CLI, 'sync', '--kernels', kernels, '--store', out, '--no-verify', '--json', '--interval', '1', ...FILTER], { reject: false });
    const lines: string[] = [];
    child.stdout?.on('data', (chunk: Buffer) => {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      if (lines.length >= 2) child.kill('SIGTERM');
    });
    const result = await child;
    assert.equal(result.exitCode, 0, String(result.stderr));
    const rounds = lines.map((l) => JSON.parse(l) as SyncReport);
    assert.deepEqual(rounds.map((r) => r.round), [1, 2]);
    assert.ok(rounds.every((r) => r.added.length === 0));
  });

  it('refuses a bad filter with exit code 2', async () => {
    const bad = await kbuild(['sync', '--kernels', kernels, '--store', out, '--release-filter', '(']);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /--release-filter "\(" is not a regular expression/);
  });
});
