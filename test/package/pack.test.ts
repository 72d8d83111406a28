import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { writeIndex } from '../../src/runner/write-index.js';
import { generateKeyFiles, loadSigningKey } from '../../src/sign/signing-key.js';
import { FsStore } from '../../src/store/fs-store.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { indexOf, storeNonCore } from '../helpers/index-fixtures.js';
import { installedPackages, packInto } from '../helpers/npm-pack.js';

const HOST = ['--distro', 'debian', '--release', '6.1.0-50-cloud-amd64', '--arch', 'x86_64', '--btf', 'yes', '--kernel-version', '#1 SMP Debian 6.1.176-1'];

/**
 * What a user gets from `npm pack`: the tarball installed into an empty
 * folder with production dependencies only (from the npm registry), then the
 * library and the CLI used from that copy, nothing from this checkout.
 */
describe('npm pack: the installed package works (slow: installs from the npm registry)', () => {
  let work: string;
  let app: string;
  let files: string[];
  let store: string;
  let keys: { privateKey: string; publicKey: string };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-pack-'));
    const packed = await packInto(REPO_ROOT, work);
    files = packed.files;
    app = join(work, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'agent', private: true, type: 'module' }));
    await execa('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', packed.tarball], { cwd: app });
    // A signed store made with the project's own code, as the farm writes it.
    keys = await generateKeyFiles(join(work, 'keys'));
    store = join(work, 'store');
    const fs = new FsStore(store);
    const artifact = await storeNonCore(fs, 'execve', '6.1.0-50-cloud-amd64', randomBytes(512));
    await writeIndex(fs, indexOf([artifact]), { signingKey: await loadSigningKey(keys.privateKey) });
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('packs dist/, the templates and image sources the CLI reads, the loader bundled; no sources, tests or CI', () => {
    for (const wanted of ['bin/kbuild.js', 'dist/src/cli/main.js', 'dist/src/loader/index.js', 'dist/src/loader/index.d.ts', 'templates/report.html.hbs', 'templates/kbuild-debian.sh.hbs', 'images/debian/Dockerfile', 'images/guest/kbuild-guest.c', 'node_modules/@kbuild/loader/dist/index.js', 'node_modules/@kbuild/loader/package.json']) {
      assert.ok(files.includes(wanted), `${wanted} is in the tarball`);
    }
    const unwanted = files.filter((f) => !f.startsWith('node_modules/')).filter((f) => /^(test|bench|src|packages|scripts|\.ci|docs|probes|dist\/bench|dist\/scripts)\//.test(f) || f.endsWith('.ts') && !f.endsWith('.d.ts') || f.endsWith('.map'));
    assert.deepEqual(unwanted, []);
  });

  it('imports kbuild/loader from the installed copy', async () => {
    const script = [
      "const l = await import('kbuild/loader');",
      "const read = await l.readIndex(process.argv[1], { publicKey: await (await import('node:fs/promises')).readFile(process.argv[2]) });",
      "let unknown; try { l.pick(read.index, await l.detectHost(), 'nope'); } catch (err) { unknown = err instanceof l.KbuildError ? err.code : String(err); }",
      'console.log(JSON.stringify({ pick: typeof l.pick, signed: read.trust.signed, unknown }));',
    ].join('\n');
    const { stdout } = await execa('node', ['--input-type=module', '-e', script, store, keys.publicKey], { cwd: app });
    assert.deepEqual(JSON.parse(stdout), { pick: 'function', signed: true, unknown: 'E_UNKNOWN_PROBE' });
  });

  it('runs `npx kbuild --version` and `kbuild pick` against a signed index', async () => {
    const version = await execa('npx', ['kbuild', '--version'], { cwd: app });
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), pkg.version);

    const picked = await execa('npx', ['kbuild', 'pick', '--store', store, '--public-key', keys.publicKey, ...HOST, '--json'], { cwd: app, reject: false });
    assert.equal(picked.exitCode, 0, picked.stderr);
    const out = JSON.parse(picked.stdout) as { trust: { signed: boolean }; picks: { choice?: { mode: string; artifact: { path: string } } }[] };
    assert.equal(out.trust.signed, true);
    assert.equal(out.picks[0]?.choice?.mode, 'non-core');
    assert.equal(out.picks[0]?.choice?.artifact.path, 'execve/x86_64/execve_debian_6.1.0-50-cloud-amd64.o');

    // No key and no --allow-unsigned: refused, not read unchecked.
    const unchecked = await execa('npx', ['kbuild', 'pick', '--store', store, ...HOST], { cwd: app, reject: false });
    assert.equal(unchecked.exitCode, 2);
    assert.match(unchecked.stderr, /no public key to verify the index with/);
  });

  it('pulls far more than the loader alone (figures for the README)', async (t) => {
    const full = await installedPackages(app);
    t.diagnostic(`kbuild --omit=dev: ${full.count} packages, ${(full.bytes / 1e6).toFixed(1)} MB`);
    assert.ok(full.names.includes('@kbuild/loader') && full.names.includes('bullmq'));
  });
});
