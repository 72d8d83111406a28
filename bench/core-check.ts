/**
 * Offline CO-RE check throughput: every object x every kernel BTF already in
 * the cache (<cache>/vmlinux-h/<image sha256>/vmlinux.btf, extracted from real
 * Debian kernel images). Prints checks per second and BTF bytes read per
 * check. `--objects a.o,b.o` checks those objects (default: the check's test
 * fixtures, compiled here); the whole archive is `kbuild check --crawl debian`
 * (downloads every image: see the report in docs).
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheRoot } from '../src/cache/cache-dir.js';
import { checkCoreObject, loadCoreObject } from '../src/core-check/check-object.js';
import { compileFixture, OBJECTS } from '../test/core-check/fixtures.js';

const arg = process.argv.indexOf('--objects');
const dir = await mkdtemp(join(tmpdir(), 'kbuild-bench-check-'));
try {
  const files = arg > 0 ? (process.argv[arg + 1] ?? '').split(',') : await Promise.all(OBJECTS.map((o) => compileFixture(o, dir)));
  const objects = await Promise.all(files.map(loadCoreObject));
  const root = join(cacheRoot(), 'vmlinux-h');
  const btfs: string[] = [];
  for (const entry of await readdir(root).catch(() => [])) {
    const file = join(root, entry, 'vmlinux.btf');
    if (await stat(file).then(() => true, () => false)) btfs.push(file);
  }
  if (btfs.length === 0) throw new Error(`no kernel BTF in ${root}: run the CO-RE check tests or a build first`);
  let bytes = 0;
  const counts = { compatible: 0, incompatible: 0 };
  const started = performance.now();
  for (const btf of btfs) {
    for (const object of objects) {
      const r = await checkCoreObject(object, btf);
      bytes += r.btfBytes;
      counts[r.result] += 1;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const checks = btfs.length * objects.length;
  console.log(JSON.stringify({
    kernels: btfs.length, objects: objects.length, checks, seconds: Number(seconds.toFixed(3)),
    checksPerSecond: Number((checks / seconds).toFixed(1)), btfBytesPerCheck: Math.round(bytes / checks), ...counts,
  }));
} finally {
  await rm(dir, { recursive: true, force: true });
}
