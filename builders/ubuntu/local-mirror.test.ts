/**
 * Slow: the Ubuntu builder against a local mirror on 127.0.0.1 with Ubuntu's
 * layout (dists/<series>[-updates|-security]/main/binary-amd64/Packages.xz or
 * only .gz, pool/main/l/...; InRelease signed by a test key, since Ubuntu's
 * key signs nothing here), holding header packages built by dpkg-deb from
 * REAL Debian headers, named as Ubuntu names them: a generic kernel with its
 * linux-headers-<abi> common package and an aws kernel with its
 * linux-aws-headers-<abi>. Proves crawl, checksum checks, extraction and a
 * real non-CO-RE compile of probes/execve.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ChecksumError, KernelNotFoundError } from '../../src/errors.js';
import { LocalExecutor } from '../../src/executor/local.js';
import { buildConfig, renderKbuildConfig } from '../../src/job/build-config.js';
import { compileNonCore } from '../../src/job/compile.js';
import type { KernelIdentity } from '../../src/kernel/identity.js';
import { buildDebFromTree, countingFetch, serveMirror, stanza, writeIndex, writeRelease, type BuiltPackage, type LocalMirror } from '../../test/helpers/apt-mirror.js';
import { DEBIAN_5_10, DEBIAN_6_1, debianHeaders } from '../../test/helpers/real-headers.js';
import { closeSigningKey, createSigningKey, type SigningKey } from '../../test/helpers/signing-key.js';
import { createUbuntuBuilder } from './index.js';

const PROBE_DIR = fileURLToPath(new URL('../../probes/execve', import.meta.url));
const generic: KernelIdentity = { distro: 'ubuntu', release: '5.10.0-32-generic', arch: 'x86_64', version: '101' };
const aws: KernelIdentity = { distro: 'ubuntu', release: '6.1.0-1050-aws', arch: 'x86_64' };

describe('ubuntu builder against a local mirror (slow: real headers, compiles)', { timeout: 15 * 60_000 }, () => {
  let work = '';
  let mirror: LocalMirror;
  let key: SigningKey;
  let tamper = false;
  const built = new Map<string, BuiltPackage>();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-ubuntumirror-'));
    key = await createSigningKey(work, 'ubuntu');
    const d510 = await debianHeaders(DEBIAN_5_10);
    const d61 = await debianHeaders(DEBIAN_6_1);
    const add = async (name: string, version: string, arch: string, dir: string, tree: string, depends?: string): Promise<BuiltPackage> => {
      const pkg = await buildDebFromTree(work, { name, version, arch, ...(depends === undefined ? {} : { depends }) }, { [`usr/src/${dir}`]: tree });
      built.set(name, pkg);
      return pkg;
    };
    const genericCommon = await add('linux-headers-5.10.0-32', '5.10.0-32.101', 'all', 'linux-headers-5.10.0-32', d510.trees.common);
    const genericFlavour = await add('linux-headers-5.10.0-32-generic', '5.10.0-32.101', 'amd64', 'linux-headers-5.10.0-32-generic', d510.trees.flavour,
      'linux-headers-5.10.0-32 (= 5.10.0-32.101), libc6 (>= 2.34), libelf1 (>= 0.142)');
    const awsCommon = await add('linux-aws-headers-6.1.0-1050', '6.1.0-1050.55~22.04.1', 'all', 'linux-aws-headers-6.1.0-1050', d61.trees.common);
    const awsFlavour = await add('linux-headers-6.1.0-1050-aws', '6.1.0-1050.55~22.04.1', 'amd64', 'linux-headers-6.1.0-1050-aws', d61.trees.flavour,
      'linux-aws-headers-6.1.0-1050, libc6 (>= 2.34)');
    // Newest pocket first: the generic kernel is in -updates (xz), the aws one only in the release pocket (gz only).
    await writeIndex(work, 'jammy-updates', 'amd64', [genericCommon, genericFlavour].map(stanza));
    await writeIndex(work, 'jammy-security', 'amd64', []);
    await writeIndex(work, 'jammy', 'amd64', [awsCommon, awsFlavour].map(stanza), 'gz');
    for (const suite of ['jammy-updates', 'jammy-security', 'jammy']) await writeRelease(work, suite, { key, suite, codename: 'jammy' });
    mirror = await serveMirror(
      work,
      (path, bytes) => {
        if (!tamper || !path.endsWith('.deb')) return bytes;
        const copy = Buffer.from(bytes);
        copy[copy.length - 200] = (copy[copy.length - 200] ?? 0) ^ 0x01;
        return copy;
      },
      'ubuntu',
    );
  });
  after(async () => {
    await mirror?.close();
    await closeSigningKey(key);
    await rm(work, { recursive: true, force: true });
  });

  async function setup(): Promise<{ builder: ReturnType<typeof createUbuntuBuilder>; urls: string[]; context: { cacheDir: string; mirror: string } }> {
    const counter = countingFetch();
    const builder = createUbuntuBuilder({ env: {}, series: ['jammy'], keyrings: [key.keyring], http: { attempts: 1, fetch: counter.fetch } });
    return { builder, urls: counter.urls, context: { cacheDir: await mkdtemp(join(work, 'cache-')), mirror: mirror.url } };
  }

  it('crawls both kernels with their build numbers', async () => {
    const { builder, context } = await setup();
    const found = (await builder.crawl?.(context, { arch: 'x86_64' })) ?? [];
    assert.deepEqual(
      found.map((k) => `${k.release} ${k.version ?? '-'} ${k.packageVersion} ${k.source}`).sort(),
      ['5.10.0-32-generic 101 5.10.0-32.101 jammy-updates', '6.1.0-1050-aws 55 6.1.0-1050.55~22.04.1 jammy'],
    );
  });

  for (const kernel of [generic, aws]) {
    it(`fetches ${kernel.release} and its common package into one tree; execve compiles against it`, async (t) => {
      const { builder, urls, context } = await setup();
      const headers = await builder.fetchHeaders(kernel, context);
      const common = kernel === generic ? 'linux-headers-5.10.0-32' : 'linux-aws-headers-6.1.0-1050';
      assert.deepEqual(headers.packages.map((p) => p.name), [`linux-headers-${kernel.release}`, common]);
      // dpkg's layout: the common folder beside the flavour one (a link to the ABI's shared tree).
      assert.equal(await realpath(join(headers.trees.flavour, '..', basename(headers.trees.common))), headers.trees.common);
      assert.ok(urls.some((u) => u.endsWith(built.get(common)?.filename ?? '?')));
      assert.match(await readFile(join(headers.trees.flavour, '.config'), 'utf8'), /CONFIG_BPF=y/);
      assert.ok((await readdir(join(headers.trees.common, 'include', 'linux'))).includes('bpf.h'));
      const config = buildConfig(kernel.release, headers.trees.versionCode, []);
      const workDir = await mkdtemp(join(work, 'compile-'));
      const result = await compileNonCore(new LocalExecutor(), {
        probeDir: PROBE_DIR, entry: 'execve.bpf.c', arch: 'x86_64', headers: headers.trees,
        configHeader: await renderKbuildConfig(config), workDir, output: join(workDir, 'out', 'execve.o'),
      });
      t.diagnostic(`${kernel.release}: compiled in ${Math.round(result.durationMs)} ms`);
      assert.equal((await readFile(result.output)).readUInt16LE(18), 247, 'an eBPF ELF object');
    });
  }

  it('refuses a build number the archive does not list, naming the one it has', async () => {
    const { builder, context } = await setup();
    await assert.rejects(builder.fetchHeaders({ ...generic, version: '#99-Ubuntu SMP' }, context), (err: unknown) => {
      assert.ok(err instanceof KernelNotFoundError);
      assert.match(err.message, /other builds listed: 5\.10\.0-32\.101 \(jammy-updates\)/);
      return true;
    });
  });

  it('a release the archive does not list names the nearest releases it does', async () => {
    const { builder, context } = await setup();
    await assert.rejects(builder.fetchHeaders({ distro: 'ubuntu', release: '5.10.0-33-generic', arch: 'x86_64' }, context), (err: unknown) => {
      assert.ok(err instanceof KernelNotFoundError);
      assert.match(err.message, /; did you mean 5\.10\.0-32-generic(,| or) /);
      assert.doesNotMatch(err.message, /did you mean[^?]*\b5\.10\.0-32[,? ]/, 'not the flavourless common package');
      return true;
    });
  });

  it('rejects a tampered package with ChecksumError', async () => {
    const { builder, context } = await setup();
    tamper = true;
    try {
      await assert.rejects(builder.fetchHeaders(aws, context), ChecksumError);
    } finally {
      tamper = false;
    }
  });

  it('rejects an index signed by a key outside the configured keyring', async () => {
    const { context } = await setup();
    const builder = createUbuntuBuilder({ env: {}, series: ['jammy'], keyrings: ['/usr/share/keyrings/debian-archive-keyring.gpg'], http: { attempts: 1 } });
    await assert.rejects(builder.fetchHeaders(generic, context), (err: unknown) => err instanceof Error && 'reason' in err && err.reason === 'signature');
  });
});
