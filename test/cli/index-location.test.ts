import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { writeIndex } from '../../src/runner/write-index.js';
import { generateKeyFiles, loadSigningKey } from '../../src/sign/signing-key.js';
import { FsStore } from '../../src/store/fs-store.js';
import { serveFolder } from '../../packages/loader/test/fixtures.js';
import { kbuild } from '../helpers/cli.js';
import { indexOf, storeNonCore } from '../helpers/index-fixtures.js';

const HOST = ['--distro', 'debian', '--release', '6.1.0-50-cloud-amd64', '--arch', 'x86_64', '--btf', 'yes', '--kernel-version', '#1 SMP Debian 6.1.176-1'];

/** `pick`, `fetch` and `report` take the same --store (old name --index) from the same places, signature checked. */
describe('CLI: one index flag, every location, in pick, fetch and report', () => {
  let work: string;
  let store: string;
  let publicKey: string;
  let web: Awaited<ReturnType<typeof serveFolder>>;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-index-location-'));
    const keys = await generateKeyFiles(join(work, 'keys'));
    publicKey = keys.publicKey;
    store = join(work, 'cli-bucket', 'v1');
    const fs = new FsStore(store);
    await writeIndex(fs, indexOf([await storeNonCore(fs, 'execve', '6.1.0-50-cloud-amd64', randomBytes(256))]), { signingKey: await loadSigningKey(keys.privateKey) });
    web = await serveFolder(work);
  });
  after(async () => {
    await web.close();
    await rm(work, { recursive: true, force: true });
  });

  const s3 = () => ['--s3-endpoint', web.url, '--s3-access-key-id', 'test', '--s3-secret-access-key', 'test', '--s3-path-style', 'yes'];

  it('reads a path, a folder, file://, http:// and s3:// alike in all three commands', async () => {
    const locations = [join(store, 'index.json'), store, pathToFileURL(store).href, `${web.url}/cli-bucket/v1/index.json`, 's3://cli-bucket/v1'];
    for (const [i, location] of locations.entries()) {
      const picked = await kbuild(['pick', '--store', location, '--public-key', publicKey, ...s3(), ...HOST, '--json']);
      assert.equal(picked.exitCode, 0, `pick ${location}: ${picked.stderr}`);
      assert.equal((JSON.parse(picked.stdout) as { picks: { choice?: { mode: string } }[] }).picks[0]?.choice?.mode, 'non-core');
      const fetched = await kbuild(['fetch', '--store', location, '--dest', join(work, `cache-${i}`), '--public-key', publicKey, ...s3(), ...HOST]);
      assert.equal(fetched.exitCode, 0, `fetch ${location}: ${fetched.stderr}`);
      assert.match(fetched.stdout, /^execve object \//m);
      const report = await kbuild(['report', '--store', location, '--public-key', publicKey, ...s3(), '--out', join(work, `report-${i}.html`), '--json']);
      assert.equal(report.exitCode, 0, `report ${location}: ${report.stderr}`);
      assert.equal((JSON.parse(report.stdout) as { trust: { signed: boolean } }).trust.signed, true);
    }
  });

  it('keeps --index as the old name of --store, and refuses the two naming different stores', async () => {
    const old = await kbuild(['pick', '--index', store, '--public-key', publicKey, ...HOST]);
    assert.equal(old.exitCode, 0, old.stderr);
    const both = await kbuild(['pick', '--store', store, '--index', work, '--public-key', publicKey, ...HOST]);
    assert.equal(both.exitCode, 2);
    assert.match(both.stderr, /--index is the old name of --store/);
    const none = await kbuild(['fetch', '--dest', join(work, 'x'), '--allow-unsigned', ...HOST]);
    assert.equal(none.exitCode, 2);
    assert.match(none.stderr, /required option '-s, --store <location>'/);
  });

  it('checks the signature by default in pick, as in fetch and report', async () => {
    for (const command of [['pick'], ['fetch', '--dest', join(work, 'y')], ['report', '--out', join(work, 'y.html')]]) {
      const result = await kbuild([...command, '--store', store, ...HOST.slice(0, command[0] === 'report' ? 0 : HOST.length)]);
      assert.equal(result.exitCode, 2, `${command[0]}: ${result.stderr}`);
      assert.match(result.stderr, /no public key to verify the index with/);
    }
    const unsigned = await kbuild(['pick', '--store', store, '--allow-unsigned', ...HOST]);
    assert.equal(unsigned.exitCode, 0);
    assert.match(unsigned.stderr, /index NOT signed/);
  });

  it('reports a probe the index does not list as E_UNKNOWN_PROBE (exit 2), not an unsupported kernel', async () => {
    const typo = await kbuild(['pick', '--store', store, '--public-key', publicKey, '--probe', 'exceve', ...HOST]);
    assert.equal(typo.exitCode, 2);
    assert.match(typo.stderr, /the index has no probe "exceve" \(it lists execve\)/);
    assert.match(typo.stderr, /Did you mean "execve"\?/);
    const fetched = await kbuild(['fetch', '--store', store, '--public-key', publicKey, '--probe', 'exceve', '--dest', join(work, 'z'), ...HOST]);
    assert.equal(fetched.exitCode, 2);
    assert.match(fetched.stderr, /no probe "exceve"/);
  });
});
