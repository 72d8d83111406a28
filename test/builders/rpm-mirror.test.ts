/**
 * Slow: every RPM-family builder against a local mirror on 127.0.0.1 laid out
 * as that distro's real mirror (repodata/ + Packages/, Amazon Linux's
 * mirror.list), holding kernel-devel RPMs built by the real rpmbuild from
 * REAL Debian kernel headers (see test/helpers/real-headers.ts), indexed by
 * the real createrepo_c. For each distro: crawl finds the kernel, fetch
 * verifies the package against the metadata (and rejects a tampered one),
 * extraction gives /usr/src/kernels/<release>, and probes/execve compiles.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { almalinuxSpec } from '../../builders/almalinux/index.js';
import { amznSpec } from '../../builders/amzn/index.js';
import { centosSpec } from '../../builders/centos/index.js';
import { fedoraSpec } from '../../builders/fedora/index.js';
import { rhelSpec } from '../../builders/rhel/index.js';
import { rockySpec } from '../../builders/rocky/index.js';
import type { DistroBuilder } from '../../builders/types.js';
import type { FetchLike } from '@kbuild/loader/internal';
import { createRpmBuilder } from '../../src/repo/rpm-md/rpm-builder.js';
import { parseElf64 } from '../../src/btf/elf-section.js';
import { ChecksumError, KernelNotFoundError } from '../../src/errors.js';
import { run } from '../../src/exec/exec.js';
import { LocalExecutor } from '../../src/executor/local.js';
import { buildConfig, renderKbuildConfig } from '../../src/job/build-config.js';
import { compileNonCore } from '../../src/job/compile.js';
import { countingFetch, serveMirror, type LocalMirror } from '../helpers/apt-mirror.js';
import { DEBIAN_5_10, DEBIAN_6_1, debianHeaders, mergedTree } from '../helpers/real-headers.js';
import { buildDevelRpm, writeRpmRepo, type DevelRpm } from '../helpers/rpm-fixtures.js';

const SPECS = { centos: centosSpec, rocky: rockySpec, almalinux: almalinuxSpec, rhel: rhelSpec, fedora: fedoraSpec, amzn: amznSpec };

/** The registered builder's spec with a fetch that counts: proves a cached kernel needs no request. */
function builderOf(distro: string, fetch?: FetchLike): DistroBuilder | undefined {
  const spec = (SPECS as Record<string, (typeof SPECS)['centos']>)[distro];
  return spec === undefined ? undefined : createRpmBuilder(spec, { env: {}, http: { attempts: 1, ...(fetch === undefined ? {} : { fetch }) } });
}

const PROBE_DIR = fileURLToPath(new URL('../../probes/execve', import.meta.url));
const V4_18 = 4 * 65536 + 18 * 256;
// LINUX_VERSION_CODE of the real Debian trees (5.10.223, 6.1.176), checked again in before().
const V5_10 = 5 * 65536 + 10 * 256 + 223;
const V6_1 = 6 * 65536 + 1 * 256 + 176;

interface Case {
  readonly distro: string;
  readonly rpm: Omit<DevelRpm, 'tree'>;
  readonly source: 'debian-5.10' | 'debian-5.10-as-4.18' | 'debian-6.1';
  /** Where the repository sits under the distro's mirror root. */
  readonly repo: string;
  /** Amazon Linux: the mirror.list path pointing at `repo`. */
  readonly mirrorList?: string;
  readonly metadata: 'gz' | 'xz' | 'zstd';
  readonly versionCode: number;
  readonly walk: number;
}

const rel = (r: string): { release: string; version: string; rel: string } => {
  const m = /^([0-9.]+)-(.+)\.x86_64$/.exec(r);
  return { release: r, version: m?.[1] ?? '', rel: m?.[2] ?? '' };
};

const CASES: readonly Case[] = [
  // Below 5.5: the 48-component walk. A real 5.10 tree under a 4.18 (el8) release; see real-headers.ts.
  { distro: 'centos', rpm: { ...rel('4.18.0-80.kbuild510.el8.x86_64'), payload: 'xz' }, source: 'debian-5.10-as-4.18', repo: '8.5.2111/AppStream/x86_64/os', metadata: 'xz', versionCode: V4_18, walk: 48 },
  { distro: 'rocky', rpm: { ...rel('5.10.0-32.1.kbuild.el9_4.x86_64'), payload: 'zstd' }, source: 'debian-5.10', repo: '9.4/AppStream/x86_64/os', metadata: 'zstd', versionCode: V5_10, walk: 80 },
  { distro: 'almalinux', rpm: { ...rel('5.10.0-32.2.kbuild.el8_10.x86_64'), payload: 'gzip' }, source: 'debian-5.10', repo: '8.10/BaseOS/x86_64/os', metadata: 'gz', versionCode: V5_10, walk: 80 },
  { distro: 'rhel', rpm: { ...rel('5.10.0-32.3.kbuild.el9.x86_64'), payload: 'xz' }, source: 'debian-5.10', repo: 'rhel9/9/x86_64/appstream/os', metadata: 'gz', versionCode: V5_10, walk: 80 },
  { distro: 'fedora', rpm: { ...rel('6.1.0-50.kbuild.fc39.x86_64'), payload: 'zstd' }, source: 'debian-6.1', repo: 'updates/39/Everything/x86_64', metadata: 'zstd', versionCode: V6_1, walk: 80 },
  { distro: 'amzn', rpm: { ...rel('5.10.0-32.4.kbuild.amzn2.x86_64'), payload: 'xz' }, source: 'debian-5.10', repo: '2/extras/kernel-5.10/guids/0a1b2c3d/x86_64', mirrorList: '2/extras/kernel-5.10/latest/x86_64/mirror.list', metadata: 'gz', versionCode: V5_10, walk: 80 },
  { distro: 'amzn', rpm: { ...rel('6.1.0-50.5.kbuild.amzn2023.x86_64'), payload: 'zstd' }, source: 'debian-6.1', repo: 'al2023/core/guids/4e5f6a7b/x86_64', mirrorList: 'al2023/core/mirrors/latest/x86_64/mirror.list', metadata: 'xz', versionCode: V6_1, walk: 80 },
];

describe('RPM-family builders against local mirrors (slow: rpmbuild, real headers, compiles)', { timeout: 30 * 60_000 }, () => {
  let work = '';
  let mirror: LocalMirror;
  let tamper: false | 'rpm' | 'primary' = false;
  const rpmBytes = new Map<string, string>();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-rpmmirror-'));
    assert.equal((await debianHeaders(DEBIAN_5_10)).trees.versionCode, V5_10);
    assert.equal((await debianHeaders(DEBIAN_6_1)).trees.versionCode, V6_1);
    const trees = {
      'debian-5.10': await mergedTree(DEBIAN_5_10),
      'debian-5.10-as-4.18': await mergedTree(DEBIAN_5_10, {
        versionCode: V4_18,
        note: 'kbuild test fixture: real Debian 5.10.0-32 headers presented as a 4.18 kernel (LINUX_VERSION_CODE rewritten); no <5.5 Debian suite is served here',
      }),
      'debian-6.1': await mergedTree(DEBIAN_6_1),
    };
    for (const c of CASES) {
      const rpm = await buildDevelRpm({ ...c.rpm, tree: trees[c.source] });
      const root = join(work, 'mirror', c.distro);
      await writeRpmRepo(join(root, c.repo), [rpm], c.metadata);
      if (c.mirrorList !== undefined) {
        await mkdir(join(root, c.mirrorList, '..'), { recursive: true });
        // Filled in once the port is known (below).
        rpmBytes.set(`mirror.list:${c.mirrorList}`, c.repo);
      }
      rpmBytes.set(c.rpm.release, `Packages/k/kernel-devel-${c.rpm.version}-${c.rpm.rel}.x86_64.rpm`);
    }
    mirror = await serveMirror(
      work,
      (path, bytes) => {
        if (tamper === false || !(tamper === 'rpm' ? path.endsWith('.rpm') : /-primary\.xml\.(gz|xz|zst)$/.test(path))) return bytes;
        const copy = Buffer.from(bytes);
        const at = copy.length >> 1;
        copy[at] = (copy[at] ?? 0) ^ 0x01;
        return copy;
      },
      'mirror',
    );
    for (const c of CASES) {
      if (c.mirrorList !== undefined) await writeFile(join(work, 'mirror', c.distro, c.mirrorList), `${mirror.url}/${c.distro}/${c.repo}\n`);
    }
  });
  after(async () => {
    await mirror?.close();
    await rm(work, { recursive: true, force: true });
  });

  const context = async (distro: string): Promise<{ cacheDir: string; mirror: string }> => ({
    cacheDir: await mkdtemp(join(work, `cache-${distro}-`)),
    mirror: `${mirror.url}/${distro}`,
  });

  for (const c of CASES) {
    const kernel = { distro: c.distro, release: c.rpm.release, arch: 'x86_64' as const };
    describe(`${c.distro} ${c.rpm.release} (${c.rpm.payload} payload, ${c.metadata} metadata)`, () => {
      it('is listed by crawl', async () => {
        const builder = builderOf(c.distro);
        assert.ok(builder !== undefined);
        const found = (await builder.crawl?.(await context(c.distro), { arch: 'x86_64' })) ?? [];
        const hit = found.find((k) => k.release === c.rpm.release);
        assert.ok(hit !== undefined, `crawl found: ${found.map((k) => k.release).join(', ')}`);
        assert.equal(hit.packageVersion, `${c.rpm.version}-${c.rpm.rel}`);
        assert.match(hit.source, new RegExp(`/${c.distro}/`));
      });

      it('fetches, verifies and extracts /usr/src/kernels/<release>; the probe compiles against it', async (t) => {
        const counter = countingFetch();
        const builder = builderOf(c.distro, counter.fetch);
        assert.ok(builder !== undefined);
        const ctx = await context(c.distro);
        const headers = await builder.fetchHeaders(kernel, ctx);
        assert.ok(counter.urls.some((u) => u.endsWith('.rpm')), 'the package was downloaded');
        counter.urls.length = 0;
        assert.equal(headers.trees.flavour, join(ctx.cacheDir, 'trees', headers.packages[0]?.sha256 ?? '?', 'usr/src/kernels', c.rpm.release));
        assert.equal(headers.trees.common, headers.trees.flavour);
        assert.equal(headers.trees.versionCode, c.versionCode);
        assert.match(await readFile(join(headers.trees.flavour, '.config'), 'utf8'), /CONFIG_BPF=y/);
        assert.deepEqual(headers.packages.map((p) => `${p.name} ${p.version}`), [`kernel-devel ${c.rpm.version}-${c.rpm.rel}`]);
        assert.equal(headers.fromCache, false);
        const again = await builder.fetchHeaders(kernel, ctx);
        assert.equal(again.fromCache, true);
        assert.deepEqual(counter.urls, []);

        const config = buildConfig(c.rpm.release, headers.trees.versionCode, []);
        assert.equal(config.maxPathComponents, c.walk);
        const workDir = await mkdtemp(join(work, 'compile-'));
        const result = await compileNonCore(new LocalExecutor(), {
          probeDir: PROBE_DIR, entry: 'execve.bpf.c', arch: 'x86_64', headers: headers.trees,
          configHeader: await renderKbuildConfig(config), workDir, output: join(workDir, 'out', 'execve.o'),
        });
        t.diagnostic(`${c.distro}: compiled in ${Math.round(result.durationMs)} ms`);
        const object = await readFile(result.output);
        const elf = parseElf64(object, result.output);
        assert.equal(elf.machine, 247, 'an eBPF ELF object');
        // What the probe was really compiled with: the walk size and the version code (48 and bpf_probe_read below 5.5).
        const info = elf.sections.find((sec) => sec.name === '.kbuild.info');
        assert.ok(info !== undefined);
        const view = Buffer.from(object.subarray(info.offset, info.offset + info.size));
        assert.deepEqual([view.readUInt32LE(0), view.readUInt32LE(4)], [c.walk, c.versionCode]);
        const { stdout } = await run('llvm-objdump', ['-d', result.output]);
        const helpers = new Set([...stdout.matchAll(/\bcall (\d+)$/gm)].map((m) => Number(m[1])));
        assert.ok(helpers.has(c.walk === 48 ? 4 : 113), `helpers: ${[...helpers].join(', ')}`);
      });

      it('rejects a package whose bytes differ from the metadata with ChecksumError', async () => {
        const builder = builderOf(c.distro);
        assert.ok(builder !== undefined);
        tamper = 'rpm';
        try {
          await assert.rejects(builder.fetchHeaders(kernel, await context(c.distro)), (err: unknown) => {
            assert.ok(err instanceof ChecksumError, String(err));
            return true;
          });
        } finally {
          tamper = false;
        }
      });
    });
  }

  it('rejects primary metadata whose bytes differ from repomd.xml before parsing it', async () => {
    const builder = builderOf('centos');
    assert.ok(builder !== undefined);
    tamper = 'primary';
    try {
      await assert.rejects(builder.fetchHeaders({ distro: 'centos', release: CASES[0]?.rpm.release ?? '', arch: 'x86_64' }, await context('centos')), (err: unknown) => {
        assert.ok(err instanceof ChecksumError, String(err));
        assert.match(err.message, /primary\.xml\.xz: (sha256 mismatch|expected \d+ bytes)/);
        return true;
      });
    } finally {
      tamper = false;
    }
  });

  it('says which repositories were searched when a release is not there', async () => {
    const builder = builderOf('centos');
    assert.ok(builder !== undefined);
    const ctx = await context('centos');
    await assert.rejects(builder.fetchHeaders({ distro: 'centos', release: '4.18.0-999.el8.x86_64', arch: 'x86_64' }, ctx), (err: unknown) => {
      assert.ok(err instanceof KernelNotFoundError);
      assert.match(err.message, /^kernel 4\.18\.0-999\.el8\.x86_64 \(x86_64\) not found in centos repositories .*8\.5\.2111\/AppStream\/x86_64\/os/);
      assert.match(err.message, /not on the mirror: .*8-stream\/AppStream/);
      return true;
    });
  });
});
