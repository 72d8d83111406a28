/**
 * Long commands on a pipe: progress goes to stderr as plain lines, and `--json`
 * stdout is one JSON document with nothing mixed in.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveMirror, type LocalMirror } from '../helpers/apt-mirror.js';
import { kbuild } from '../helpers/cli.js';
import { artifactFor, indexOf } from '../helpers/index-fixtures.js';

const RELEASE = '6.1.0-50-cloud-amd64';
const HOST = ['--distro', 'debian', '--release', RELEASE, '--arch', 'x86_64', '--btf', 'yes'];

describe('progress and --json of fetch, keygen, pick', { timeout: 5 * 60_000 }, () => {
  let work = '';
  let server: LocalMirror;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-progress-'));
    const store = join(work, 'mirror');
    const path = `execve/x86_64/execve_debian_${RELEASE}.o`;
    // 3 MiB from 127.0.0.1: big enough for a line, too quick for percentages.
    const object = randomBytes(3 << 20);
    await mkdir(join(store, 'execve/x86_64'), { recursive: true });
    await writeFile(join(store, path), object);
    const index = indexOf([artifactFor(path, object, { probe: 'execve', kind: 'non-core' })]);
    await writeFile(join(store, 'index.json'), JSON.stringify(index));
    server = await serveMirror(work, undefined, 'store');
  });
  after(async () => {
    await server?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('fetch over HTTP: download lines on stderr, one JSON document on stdout; a second run downloads nothing', async () => {
    const dest = join(work, 'dest');
    const args = ['fetch', '--index', `${server.url}/index.json`, '--dest', dest, '--allow-unsigned', ...HOST, '--json'];
    const first = await kbuild(args);
    assert.equal(first.exitCode, 0, first.stderr);
    const result = JSON.parse(first.stdout) as { trust: { signed: boolean }; host: { release: string }; probes: { probe: string; object: { downloaded: boolean; size: number; path: string } }[] };
    assert.equal(result.trust.signed, false);
    assert.equal(result.host.release, RELEASE);
    assert.equal(result.probes[0]?.probe, 'execve');
    assert.equal(result.probes[0]?.object.downloaded, true);
    assert.equal(result.probes[0]?.object.size, 3 << 20);
    const name = `execve_debian_${RELEASE}.o`;
    assert.doesNotMatch(first.stderr, /^kbuild: download /m, 'a download that takes no time gets no start or percentage lines');
    assert.match(first.stderr, new RegExp(`^kbuild: downloaded ${name.replace(/\./g, '\\.')} \\(3\\.0 MiB in [0-9.]+s\\)$`, 'm'));
    assert.match(first.stderr, /^kbuild: execve object execve\/x86_64\/.*: downloaded and verified \(3\.0 MiB\)$/m);

    const second = await kbuild(args);
    assert.equal(second.exitCode, 0, second.stderr);
    assert.equal((JSON.parse(second.stdout) as typeof result).probes[0]?.object.downloaded, false);
    assert.doesNotMatch(second.stderr, /downloaded execve_debian/);
    assert.match(second.stderr, /^kbuild: execve object .*: verified in the cache$/m);
  });

  it('fetch without --json: paths on stdout, progress and explanations on stderr', async () => {
    const result = await kbuild(['fetch', '--index', `${server.url}/index.json`, '--dest', join(work, 'dest2'), '--allow-unsigned', ...HOST]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^execve object \/.*\.o$/);
    assert.match(result.stderr, /^kbuild: downloaded execve_debian_/m);
  });

  it('keygen --json and pick --json print one JSON document with the expected fields', async () => {
    const keys = await kbuild(['keygen', '--out', join(work, 'keys'), '--json']);
    assert.equal(keys.exitCode, 0, keys.stderr);
    const k = JSON.parse(keys.stdout) as { keyId: string; privateKey: string; publicKey: string };
    assert.match(k.keyId, /^[0-9a-f]{16}$/);
    assert.ok(k.privateKey.endsWith('kbuild-index.key') && k.publicKey.endsWith('kbuild-index.pub'));

    const picked = await kbuild(['pick', '--allow-unsigned', '--index', join(work, 'mirror', 'index.json'), ...HOST, '--json']);
    assert.equal(picked.exitCode, 0, picked.stderr);
    const p = JSON.parse(picked.stdout) as { host: { release: string }; picks: { probe: string; choice: { artifact: { path: string }; mode: string } }[] };
    assert.equal(p.host.release, RELEASE);
    assert.equal(p.picks[0]?.choice.mode, 'non-core');
    assert.equal(p.picks[0]?.choice.artifact.path, `execve/x86_64/execve_debian_${RELEASE}.o`);
  });
});
