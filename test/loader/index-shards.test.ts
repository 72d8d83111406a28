import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fetchArtifacts, pick, pickFrom, readIndex, readPickIndex, type ArtifactIndex, type FetchOptions, type HostIdentity, type PickResult } from '@kbuild/loader';
import { MANIFEST_KEY, ShardManifest } from '@kbuild/loader/internal';
import { writeIndex } from '../../src/runner/write-index.js';
import { generateKeyFiles, loadSigningKey, signIndexBytes, type SigningKey } from '../../src/sign/signing-key.js';
import { FsStore } from '../../src/store/fs-store.js';
import { kbuild } from '../helpers/cli.js';
import { countingServer } from '../helpers/counting-server.js';
import { fleetIndex, storeFleetBlobs, type Fleet } from '../helpers/fleet-index.js';
import { indexOf, storeNonCore } from '../helpers/index-fixtures.js';

const PROBES = ['execve', 'openat'];
const VERSION = '#1 SMP Debian';

/** What must be the same whether the agent read its shard or the whole index. */
function essence(result: PickResult, keep: (path: string) => boolean) {
  const c = result.choice;
  return {
    choice: c === undefined ? undefined : { path: c.artifact.path, sha256: c.artifact.sha256, size: c.artifact.size, mode: c.mode, reason: c.reason, btf: c.btf },
    // The whole index also rejects every other kernel's per-kernel object: those are not in a shard.
    rejected: result.rejected.filter((r) => keep(r.path)),
    needs: result.needs,
  };
}

describe('sharded index: an agent reads the signed manifest and its kernel\'s shard', () => {
  let work: string;
  let storeDir: string;
  let keys: { privateKey: string; publicKey: string };
  let signingKey: SigningKey;
  let fleet: Fleet;
  let published: ArtifactIndex;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-shards-'));
    keys = await generateKeyFiles(join(work, 'keys'));
    signingKey = await loadSigningKey(keys.privateKey);
    fleet = fleetIndex(40, PROBES);
  });
  after(() => rm(work, { recursive: true, force: true }));

  beforeEach(async () => {
    storeDir = await mkdtemp(join(work, 'store-'));
    const store = new FsStore(storeDir);
    await storeFleetBlobs(store, fleet);
    published = (await writeIndex(store, fleet.index, { signingKey })).index;
  });

  const trust = async () => ({ publicKey: await readFile(keys.publicKey) });
  const hostOf = (i: number, extra: Partial<HostIdentity> = {}): HostIdentity => {
    const k = fleet.kernels[i];
    assert.ok(k !== undefined);
    return { distro: k.distro, release: k.release, arch: k.arch, version: VERSION, hasBtf: k.hasBtf, ...extra };
  };
  const fetchOptions = async (index: string, host: HostIdentity, extra: Partial<FetchOptions> = {}): Promise<FetchOptions> => ({
    index, dest: await mkdtemp(join(work, 'dest-')), host, ...(await trust()), ...extra,
  });

  it('downloads only the manifest, its signatures, the trie path and one shard, then the object', async () => {
    const web = await countingServer(storeDir);
    try {
      const host = hostOf(0);
      const result = await fetchArtifacts(await fetchOptions(`${web.url}/index.json`, host, { probes: ['execve'] }));
      assert.equal(result.via, 'shards');
      assert.equal(result.trust.signed, true);
      assert.equal(result.probes[0]?.pick.choice?.mode, 'non-core');
      const keysRead = web.requests.map((r) => r.key);
      assert.ok(!keysRead.includes('index.json'), `index.json was downloaded: ${keysRead.join(', ')}`);
      const objects = keysRead.filter((k) => !k.startsWith('index'));
      assert.deepEqual(objects, [`execve/x86_64/execve_debian_${host.release}.o`]);
      const indexFiles = web.requests.filter((r) => r.key.startsWith('index'));
      assert.deepEqual(indexFiles.slice(0, 3).map((r) => r.key), [MANIFEST_KEY, `${MANIFEST_KEY}.sig`, 'index.json.sig']);
      const nodes = indexFiles.filter((r) => r.key.startsWith('index/nodes/debian/x86_64/'));
      // 27 x86_64 kernels do not fit one leaf of 16: a branch, then a leaf.
      assert.equal(nodes.length, 2, keysRead.join(', '));
      const shards = indexFiles.filter((r) => r.key.startsWith('index/shards/'));
      assert.equal(shards.length, 1);
      assert.equal(indexFiles.length, 3 + nodes.length + shards.length, keysRead.join(', '));
      const downloaded = indexFiles.reduce((sum, r) => sum + r.bytes, 0);
      const full = (await stat(join(storeDir, 'index.json'))).size;
      assert.deepEqual(result.indexReads.map((r) => r.key), indexFiles.map((r) => r.key), 'the library reports what it read');
      assert.ok(downloaded < 16 * 1024, `an agent's index download is ${downloaded} bytes`);
      assert.ok(downloaded * 10 < full, `${downloaded} bytes of shards against a ${full}-byte index`);
    } finally {
      await web.close();
    }
  });

  it('picks what the whole index picks, for every kind of host', async () => {
    const hosts: [string, HostIdentity, { preferCore?: boolean; requireVerified?: boolean }][] = [
      ['exact per-kernel build', hostOf(0), {}],
      ['required verification', hostOf(0), { requireVerified: true }],
      ['no BTF, exact build', hostOf(4), {}],
      ['no BTF, CO-RE + external BTF', hostOf(4), { preferCore: true }],
      ['per-kernel object failed in QEMU', hostOf(3), {}],
      ['per-kernel build failed', hostOf(6), {}],
      ['arm64', hostOf(2), {}],
      ['arm64 without BTF, CO-RE', hostOf(14), { preferCore: true }],
      ['a kernel the store knows nothing of, with BTF', hostOf(0, { release: '6.1.0-999-cloud-amd64' }), {}],
      ['a kernel the store knows nothing of, without BTF', hostOf(0, { release: '6.1.0-999-cloud-amd64', hasBtf: false }), {}],
      ['another distro', hostOf(0, { distro: 'ubuntu', release: '5.15.0-91-generic' }), { requireVerified: true }],
    ];
    const full = await readIndex(storeDir, await trust());
    for (const [what, host, options] of hosts) {
      const view = await readPickIndex(storeDir, host, await trust());
      assert.equal(view.via, 'shards', what);
      const inShard = new Set(view.index.artifacts.map((a) => a.path));
      for (const probe of PROBES) {
        const fromShard = pickFrom(view, host, probe, options);
        const fromIndex = pick(full.index, host, probe, options);
        assert.deepEqual(essence(fromShard, (p) => inShard.has(p)), essence(fromIndex, (p) => inShard.has(p)), `${what}, ${probe}`);
      }
    }
    // The cases above are not all alike: the comparison covers each mode.
    const modes = new Set(hosts.map(([, host, options]) => pick(full.index, host, 'execve', options).choice?.mode ?? 'none'));
    assert.deepEqual([...modes].sort(), ['core', 'core+external-btf', 'non-core', 'none']);
    const view = await readPickIndex(storeDir, hostOf(0), await trust());
    assert.throws(() => pickFrom(view, hostOf(0), 'exceve'), { code: 'E_UNKNOWN_PROBE' });
  });

  it('refuses a shard whose bytes were changed, truncated or replaced (E_SHARD_INTEGRITY)', async () => {
    const host = hostOf(4);
    const view = await readPickIndex(storeDir, host, await trust());
    const shard = view.reads.find((r) => r.key.startsWith('index/shards/'))?.key;
    assert.ok(shard !== undefined);
    const path = join(storeDir, shard);
    const original = await readFile(path);
    const refused = async (code: string) => {
      const options = await fetchOptions(storeDir, host);
      await assert.rejects(fetchArtifacts(options), (err: Error & { code?: string; exitCode?: number }) => {
        assert.equal(err.code, code, err.message);
        assert.equal(err.exitCode, 4);
        return true;
      });
      assert.deepEqual(await readdir(options.dest), [], 'nothing was downloaded');
    };
    // Well-formed, one field changed: an attacker pointing the agent at another object.
    const json = gunzipSync(original).toString('utf8');
    const forged = json.replace(/"sha256":"[0-9a-f]{64}"/, `"sha256":"${'0'.repeat(64)}"`);
    assert.notEqual(forged, json);
    await writeFile(path, gzipSync(forged));
    await refused('E_SHARD_INTEGRITY');
    // One bit flipped, same length.
    const flipped = Buffer.from(original);
    flipped.writeUInt8(flipped.readUInt8(flipped.length >> 1) ^ 0x01, flipped.length >> 1);
    await writeFile(path, flipped);
    await refused('E_SHARD_INTEGRITY');
    await writeFile(path, original.subarray(0, 100));
    await refused('E_SHARD_INTEGRITY');
    // Another kernel's (valid, signed-through-its-parent) shard under this one's name.
    const other = (await readPickIndex(storeDir, hostOf(0), await trust())).reads.find((r) => r.key.startsWith('index/shards/'))?.key;
    assert.ok(other !== undefined && other !== shard);
    await writeFile(path, await readFile(join(storeDir, other)));
    await refused('E_SHARD_INTEGRITY');
    await writeFile(path, original);
    assert.equal((await fetchArtifacts(await fetchOptions(storeDir, host))).via, 'shards');
    // A trie node is checked the same way.
    const node = view.reads.find((r) => r.key.startsWith('index/nodes/'))?.key;
    assert.ok(node !== undefined);
    const nodeBytes = await readFile(join(storeDir, node));
    nodeBytes.writeUInt8(nodeBytes.readUInt8(nodeBytes.length >> 1) ^ 0x20, nodeBytes.length >> 1);
    await writeFile(join(storeDir, node), nodeBytes);
    await refused('E_SHARD_INTEGRITY');
  });

  it('refuses a changed manifest (E_INDEX_SIGNATURE) and one signed by another key, and never falls back to index.json then', async () => {
    const path = join(storeDir, MANIFEST_KEY);
    const original = await readFile(path, 'utf8');
    const manifest = ShardManifest.parse(JSON.parse(original));
    // Point x86_64 at the arm64 trie: well-formed, and refused before it is parsed.
    const arm = manifest.kernels.find((k) => k.arch === 'arm64');
    assert.ok(arm !== undefined);
    const forged = { ...manifest, kernels: manifest.kernels.map((k) => (k.arch === 'x86_64' ? { ...k, root: arm.root } : k)) };
    await writeFile(path, `${JSON.stringify(forged)}\n`);
    await assert.rejects(readPickIndex(storeDir, hostOf(0), await trust()), { code: 'E_INDEX_SIGNATURE' });
    const other = await generateKeyFiles(join(work, `other-${Date.now()}`));
    await writeFile(path, `${JSON.stringify(forged)}\n`);
    await writeFile(`${path}.sig`, signIndexBytes(Buffer.from(`${JSON.stringify(forged)}\n`), await loadSigningKey(other.privateKey)));
    await assert.rejects(readPickIndex(storeDir, hostOf(0), await trust()), { code: 'E_INDEX_WRONG_KEY' });
  });

  it('reads index.json from a store without shards (published by an older kbuild), and picks the same', async () => {
    const host = hostOf(4);
    const sharded = await fetchArtifacts(await fetchOptions(storeDir, host));
    await rm(join(storeDir, 'index'), { recursive: true });
    const old = await fetchArtifacts(await fetchOptions(storeDir, host));
    assert.equal(sharded.via, 'shards');
    assert.equal(old.via, 'index');
    assert.deepEqual(old.indexReads.map((r) => r.key), ['index.json', 'index.json.sig']);
    assert.deepEqual(old.probes.map((p) => [p.object?.sha256, p.btf?.sha256]), sharded.probes.map((p) => [p.object?.sha256, p.btf?.sha256]));
  });

  it('reads index.json when an older kbuild published after the manifest was written (a stale manifest)', async () => {
    // An older kbuild merges a new kernel into index.json and signs it, and knows nothing of index/.
    const store = new FsStore(storeDir);
    const added = await storeNonCore(store, 'execve', '6.1.0-77-cloud-amd64', Buffer.from('new object'));
    const merged = { ...published, artifacts: [...published.artifacts, added].sort((a, b) => a.path.localeCompare(b.path)) };
    const bytes = Buffer.from(`${JSON.stringify(merged, null, 2)}\n`);
    await store.putBytes('index.json.next.sig', signIndexBytes(bytes, signingKey));
    await store.putBytes('index.json', bytes);
    await store.putBytes('index.json.sig', signIndexBytes(bytes, signingKey));
    const host = { ...hostOf(0), release: '6.1.0-77-cloud-amd64' };
    const view = await readPickIndex(storeDir, host, await trust());
    assert.equal(view.via, 'index');
    assert.equal(pickFrom(view, host, 'execve').choice?.artifact.path, added.path);
    // The next publish by this kbuild brings the manifest up to date.
    await writeIndex(store, indexOf([added]), { signingKey });
    const fresh = await readPickIndex(storeDir, host, await trust());
    assert.equal(fresh.via, 'shards');
    assert.equal(pickFrom(fresh, host, 'execve').choice?.artifact.path, added.path);
  });

  it('kbuild pick --json says it read the shards, and what that cost', async () => {
    const k = fleet.kernels[4];
    assert.ok(k !== undefined);
    const picked = await kbuild(['pick', '--store', storeDir, '--public-key', keys.publicKey, '--distro', k.distro, '--release', k.release, '--arch', k.arch, '--btf', 'no', '--kernel-version', VERSION, '--json']);
    assert.equal(picked.exitCode, 0, picked.stderr);
    const out = JSON.parse(picked.stdout) as { read: { via: string; files: number; bytes: number }; picks: { choice?: { artifact: { path: string } } }[] };
    assert.equal(out.read.via, 'shards');
    assert.ok(out.read.bytes > 0 && out.read.bytes < 16 * 1024, `${out.read.bytes} bytes`);
    assert.deepEqual(out.picks.map((p) => p.choice?.artifact.path), PROBES.map((p) => `${p}/x86_64/${p}_debian_${k.release}.o`));
  });

  it('does not rewrite the shard of a kernel a publish did not change', async () => {
    const before = await readPickIndex(storeDir, hostOf(0), await trust());
    const shard = before.reads.find((r) => r.key.startsWith('index/shards/'))?.key;
    assert.ok(shard !== undefined);
    const { mtimeMs, ino } = await stat(join(storeDir, shard));
    const store = new FsStore(storeDir);
    await writeIndex(store, indexOf([await storeNonCore(store, 'execve', '6.1.0-88-cloud-amd64', Buffer.from('another'))]), { signingKey });
    const after = await readPickIndex(storeDir, hostOf(0), await trust());
    assert.equal(after.reads.find((r) => r.key.startsWith('index/shards/'))?.key, shard);
    assert.deepEqual(await stat(join(storeDir, shard)).then((s) => ({ mtimeMs: s.mtimeMs, ino: s.ino })), { mtimeMs, ino });
    const added = { ...hostOf(0), release: '6.1.0-88-cloud-amd64' };
    const view = await readPickIndex(storeDir, added, await trust());
    assert.equal(pickFrom(view, added, 'execve').choice?.artifact.path, 'execve/x86_64/execve_debian_6.1.0-88-cloud-amd64.o');
  });

  it('keeps only its own kernel\'s offline CO-RE check in a shard, and refuses what it predicts incompatible', async () => {
    const incompatible = hostOf(4);
    const withChecks: ArtifactIndex = {
      ...fleet.index,
      artifacts: fleet.index.artifacts.map((a) => a.kind !== 'core' ? a : {
        ...a,
        coreCheck: fleet.kernels.filter((k) => k.arch === a.arch).map((k) => ({
          kernel: { distro: k.distro, release: k.release, arch: k.arch },
          result: k.release === incompatible.release ? 'incompatible' as const : 'compatible' as const,
          coreSha256: a.sha256,
          ...(k.release === incompatible.release ? { failures: [{ relocation: 'tp/x#1', kind: 'byte_off', type: 'struct module', field: 'core_layout.base' }], detail: 'one\ntwo' } : {}),
        })),
      }),
    };
    const store = new FsStore(storeDir);
    await writeIndex(store, withChecks, { signingKey });
    const full = await readIndex(storeDir, await trust());
    for (const host of [incompatible, hostOf(9)]) {
      const view = await readPickIndex(storeDir, host, await trust());
      assert.equal(view.via, 'shards');
      for (const core of view.index.artifacts.filter((a) => a.kind === 'core')) {
        assert.deepEqual(core.coreCheck?.map((c) => c.kernel.release), [host.release], 'one entry: this kernel\'s');
      }
      for (const probe of PROBES) {
        const inShard = new Set(view.index.artifacts.map((a) => a.path));
        assert.deepEqual(essence(pickFrom(view, host, probe, { preferCore: true }), (p) => inShard.has(p)), essence(pick(full.index, host, probe, { preferCore: true }), (p) => inShard.has(p)));
      }
    }
    const refused = pickFrom(await readPickIndex(storeDir, incompatible, await trust()), incompatible, 'execve', { preferCore: true });
    assert.notEqual(refused.choice?.artifact.kind, 'core');
    assert.ok(refused.rejected.some((r) => /predicted incompatible .*core_layout\.base/.test(r.reason)), JSON.stringify(refused.rejected));
  });
});
