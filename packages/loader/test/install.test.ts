import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { installedPackages, packInto } from '../../../test/helpers/npm-pack.js';
import { signedStore, type SignedStore } from './fixtures.js';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** An agent that only loads: `npm install @kbuild/loader` into an empty project (slow: zod comes from the npm registry). */
describe('@kbuild/loader installed alone', () => {
  let work: string;
  let app: string;
  let store: SignedStore;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-loader-install-'));
    const { tarball } = await packInto(REPO_ROOT, work, '@kbuild/loader');
    app = join(work, 'agent');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'agent', private: true, type: 'module' }));
    await execa('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', tarball], { cwd: app });
    store = await signedStore(join(work, 'store'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('pulls zod and nothing else (the S3 SDK is an optional peer)', async (t) => {
    const installed = await installedPackages(app);
    t.diagnostic(`@kbuild/loader --omit=dev: ${installed.count} packages, ${(installed.bytes / 1e6).toFixed(1)} MB`);
    assert.deepEqual(installed.names, ['@kbuild/loader', 'zod']);
  });

  it('reads, verifies and picks from the installed copy; s3:// without the SDK says what to install', async () => {
    const script = [
      "const l = await import('@kbuild/loader');",
      "const { readFile } = await import('node:fs/promises');",
      'const read = await l.readIndex(process.argv[1], { publicKey: await readFile(process.argv[2], "utf8") });',
      "const host = { distro: 'debian', release: '6.1.0-50-cloud-amd64', arch: 'x86_64', version: '#1', hasBtf: true };",
      "const picked = l.pick(read.index, host, 'execve');",
      "let s3; try { await l.readIndex('s3://agent-bucket/v1', { allowUnsigned: true }); } catch (err) { s3 = { code: err.code, message: err.message, isKbuild: err instanceof l.KbuildError }; }",
      'console.log(JSON.stringify({ signed: read.trust.signed, mode: picked.choice?.mode, s3 }));',
    ].join('\n');
    await writeFile(join(work, 'store.pub'), store.publicKeyPem);
    const { stdout } = await execa('node', ['--input-type=module', '-e', script, store.dir, join(work, 'store.pub')], { cwd: app });
    const out = JSON.parse(stdout) as { signed: boolean; mode: string; s3: { code: string; message: string; isKbuild: boolean } };
    assert.equal(out.signed, true);
    assert.equal(out.mode, 'non-core');
    assert.equal(out.s3.code, 'E_S3');
    assert.equal(out.s3.isKbuild, true);
    assert.match(out.s3.message, /needs the package @aws-sdk\/client-s3, which is not installed/);
  });
});
