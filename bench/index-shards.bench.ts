// What an agent downloads to pick, sharded index against the whole index.json:
// a signed store publishes a synthetic fleet (test/helpers/fleet-index.ts:
// every kernel with a per-kernel object per probe, a CO-RE object per arch
// booted in every kernel, one kernel in five without BTF) for N kernels and P
// probes; then agents on a kernel with BTF, one without and one the store does
// not list read what they pick from (manifest, signatures, trie nodes, shard).
// Prints figures; the test (test/loader/index-shards.test.ts) holds the 16 KB target.
// Run: npm run bench:shards   (BENCH_KERNELS=10,100,1000 BENCH_PROBES=1,5,10)
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPickIndex, type HostIdentity } from '@kbuild/loader';
import { writeIndex } from '../src/runner/write-index.js';
import { generateKeyFiles, loadSigningKey } from '../src/sign/signing-key.js';
import { FsStore } from '../src/store/fs-store.js';
import { fleetIndex } from '../test/helpers/fleet-index.js';

const list = (name: string, fallback: string): number[] => (process.env[name] ?? fallback).split(',').map(Number);
const KERNELS = list('BENCH_KERNELS', '10,100,1000');
const PROBES = list('BENCH_PROBES', '1,5,10');

async function folderBytes(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}

const kib = (n: number): string => (n / 1024).toFixed(1);
const work = await mkdtemp(join(tmpdir(), 'kbuild-bench-shards-'));
try {
  const keys = await generateKeyFiles(join(work, 'keys'));
  const signingKey = await loadSigningKey(keys.privateKey);
  const trust = { publicKey: await readFile(keys.publicKey) };
  console.log('kernels probes | index.json KiB | publish s  shards+nodes (files, KiB) | agent pick download KiB (files): BTF kernel, no-BTF kernel, unlisted kernel | max ÷ index');
  for (const probes of PROBES) {
    for (const kernels of KERNELS) {
      const fleet = fleetIndex(kernels, Array.from({ length: probes }, (_, p) => `probe-${p}`));
      const dir = join(work, `store-${kernels}-${probes}`);
      const store = new FsStore(dir);
      const t = performance.now();
      await writeIndex(store, fleet.index, { signingKey });
      const publish = (performance.now() - t) / 1000;
      const full = (await stat(join(dir, 'index.json'))).size + (await stat(join(dir, 'index.json.sig'))).size;
      const sharded = await folderBytes(join(dir, 'index'));
      const host = (k: (typeof fleet.kernels)[number]): HostIdentity => ({ distro: k.distro, release: k.release, arch: k.arch, version: '#1 SMP Debian', hasBtf: k.hasBtf });
      const hosts = [
        host(fleet.kernels.find((k) => k.hasBtf && k.arch === 'x86_64') ?? fleet.kernels[0]!),
        host(fleet.kernels.find((k) => !k.hasBtf) ?? fleet.kernels[0]!),
        { distro: 'debian', release: '6.1.0-9999-cloud-amd64', arch: 'x86_64', version: '#1', hasBtf: true },
      ];
      const reads = [];
      for (const h of hosts) {
        const view = await readPickIndex(dir, h, trust);
        if (view.via !== 'shards') throw new Error(`${kernels} kernels: read ${view.via}, not shards`);
        reads.push({ bytes: view.reads.reduce((sum, r) => sum + r.bytes, 0), files: view.reads.length });
      }
      const worst = Math.max(...reads.map((r) => r.bytes));
      console.log(
        `${String(kernels).padStart(7)} ${String(probes).padStart(6)} | ${kib(full).padStart(14)} | ${publish.toFixed(2).padStart(9)}  ${String(sharded.files).padStart(6)} files ${kib(sharded.bytes).padStart(8)} | ` +
          `${reads.map((r) => `${kib(r.bytes)} (${r.files})`).join(', ').padEnd(42)} | 1/${Math.round(full / worst)}`,
      );
      await rm(dir, { recursive: true, force: true });
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
