import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/exec/exec.js';
import { cacheRoot } from '../../src/cache/cache-dir.js';
import type { Arch } from '../../src/kernel/identity.js';
import type { ProbeCheck, VerifyCase, VerifyKernelResult } from '../../src/verify/types.js';
import { verifyKernel } from '../../src/verify/verify-kernel.js';
import { KERNELS } from './engine-fixtures.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const POLICY: ProbeCheck = { attachSkip: ['skip_me', 'skip_typo'], attachOptional: ['missing_*'], autoloadDisable: ['feature_probe'] };
/** What sized.bpf.c's loader would set: map sizes, an inner ring buffer for the array of maps, the filter's type. */
const SIZING: ProbeCheck = {
  maps: [
    { name: 'per_cpu', maxEntries: 'cpus' },
    { name: 'rings', maxEntries: 'cpus', inner: { type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 65536 } },
    { name: 'sized_count', maxEntries: 1 },
    { name: 'typo_map', maxEntries: 1 },
  ],
  programTypes: [{ programs: 'typed_*', type: 'socket_filter' }],
  event: { trigger: 'execve', count: 3, counterMap: 'sized_count' },
};

/** Plain clang -target bpf: these objects use no kernel types, so one serves both arches. */
async function compile(work: string, name: string): Promise<{ file: string; sha256: string }> {
  const file = join(work, `${name}.o`);
  await run('clang', ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, '-c', join(FIXTURES, `${name}.bpf.c`), '-o', file]);
  return { file, sha256: createHash('sha256').update(await readFile(file)).digest('hex') };
}

// Real Debian kernels in QEMU (TCG): load + attach as the proof, the per-probe policy, and the whole verifier log.
describe('verify engine: load + attach per program, policy, whole log (real QEMU boots, slow)', { timeout: 15 * 60 * 1000 }, () => {
  let work: string;
  let policy: { file: string; sha256: string };
  let bigBroken: { file: string; sha256: string };
  let legacy: { file: string; sha256: string };
  let sized: { file: string; sha256: string };
  let triggers: { file: string; sha256: string };
  let multi: { file: string; sha256: string };
  let notBpf: { file: string; sha256: string };
  let gobpf: { file: string; sha256: string };
  let optionalLoad: { file: string; sha256: string };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-verify-policy-'));
    policy = await compile(work, 'policy');
    bigBroken = await compile(work, 'big-broken');
    legacy = await compile(work, 'legacy-maps');
    sized = await compile(work, 'sized');
    triggers = await compile(work, 'triggers');
    multi = await compile(work, 'kprobe-multi');
    gobpf = await compile(work, 'per-map-sections');
    optionalLoad = await compile(work, 'optional-load');
    const x86 = join(work, 'not-bpf.o');
    await run('clang', ['-c', '-x', 'c', '-o', x86, join(FIXTURES, 'kprobe-multi.bpf.c'), '-I/usr/include/x86_64-linux-gnu']);
    notBpf = { file: x86, sha256: createHash('sha256').update(await readFile(x86)).digest('hex') };
  });
  after(() => rm(work, { recursive: true, force: true }));

  const aCase = (probe: string, object: { file: string; sha256: string }, check: ProbeCheck): VerifyCase => ({
    probe,
    mode: 'core-kernel-btf',
    objectFile: object.file,
    objectSha256: object.sha256,
    artifactPath: `core/x86_64/${probe}.o`,
    check,
  });
  const boot = (arch: Arch): Promise<VerifyKernelResult> =>
    verifyKernel({
      kernel: KERNELS[arch],
      cases: [
        aCase('policy', policy, POLICY),
        aCase('strict', policy, {}),
        aCase('only', policy, { attachOnly: ['dispatcher', 'xdp_*'], autoloadDisable: ['feature_probe'] }),
        aCase('big-broken', bigBroken, {}),
        aCase('legacy', legacy, { event: { trigger: 'execve', count: 3, counterMap: 'legacy_count' } }),
        aCase('sized', sized, SIZING),
        aCase('unsized', sized, {}),
        aCase('no-rings', sized, {
          maps: [
            { name: 'per_cpu', maxEntries: 'cpus' },
            { name: 'sized_count', maxEntries: 1 },
          ],
          autocreateDisable: ['rings'],
          autoloadDisable: ['count_execve'],
          programTypes: [{ programs: 'typed_*', type: 'socket_filter' }],
        }),
        aCase('on-open', triggers, { event: { trigger: 'open', count: 4, counterMap: 'open_count' } }),
        aCase('on-connect', triggers, { event: { trigger: 'connect', count: 4, counterMap: 'connect_count' } }),
        aCase('on-packet', triggers, { event: { trigger: 'packet', count: 4, counterMap: 'packet_count' } }),
        aCase('on-open-ringbuf', triggers, { event: { trigger: 'open', count: 4, counterMap: 'open_events' } }),
        aCase('on-command', triggers, { event: { trigger: 'command', count: 4, counterMap: 'command_count' } }),
      ],
      timeoutMs: 180_000,
      cacheDir: cacheRoot(),
    });
  const programs = (result: VerifyKernelResult, probe: string): Record<string, string> =>
    Object.fromEntries((result.results.find((r) => r.case.probe === probe)?.programs ?? []).map((p) => [p.name, p.result]));

  for (const arch of ['x86_64', 'arm64'] as const) {
    it(`${arch}: a probe without a counter map is ok when its programs load and attach; the policy decides the rest`, async () => {
      const result = await boot(arch);
      assert.equal(result.outcome, 'completed', result.consoleTail);
      const ok = result.results.find((r) => r.case.probe === 'policy');
      assert.equal(ok?.result, 'ok', `${ok?.detail ?? ''}\n${ok?.verifierLog ?? ''}`);
      assert.equal(ok?.events, 0, 'no event check was asked for');
      assert.match(ok?.detail ?? '', /attach\.skip skip_typo matches no program/, 'a policy name matching nothing is pointed out');
      const withPolicy = {
        tail_target: 'loaded',
        dispatcher: 'attached',
        on_execve: 'attached',
        skip_me: 'loaded',
        missing_kprobe: 'loaded',
        no_target: 'loaded',
        feature_probe: 'skipped',
        optional_by_object: 'skipped',
        xdp_pass: 'attached',
        socket_filter: 'attached',
        cgroup_egress: 'attached',
      };
      assert.deepEqual(programs(result, 'policy'), withPolicy);
      const detail = (name: string): string => ok?.programs?.find((p) => p.name === name)?.detail ?? '';
      assert.match(detail('tail_target'), /prog-array jump/);
      assert.match(detail('skip_me'), /attach\.skip/);
      assert.match(detail('missing_kprobe'), /attach\.optional/);
      assert.match(detail('no_target'), /no attach target/);
      assert.match(detail('feature_probe'), /autoload\.disable/);

      // The same object without the policy: the kprobe on a missing function is required, so the case fails.
      const strict = result.results.find((r) => r.case.probe === 'strict');
      assert.equal(strict?.result, 'failed');
      assert.match(strict?.detail ?? '', /1 program\(s\) failed to attach \(attaching missing_kprobe failed/);
      assert.equal(programs(result, 'strict')['missing_kprobe'], 'failed');
      assert.equal(programs(result, 'strict')['skip_me'], 'attached');

      // attach.only: the dispatcher and XDP attach, the rest is loaded (what the object marks optional stays skipped).
      assert.equal(result.results.find((r) => r.case.probe === 'only')?.result, 'ok');
      assert.deepEqual(programs(result, 'only'), { ...withPolicy, on_execve: 'loaded', socket_filter: 'loaded', cgroup_egress: 'loaded' });
      assert.match(result.results.find((r) => r.case.probe === 'only')?.programs?.find((p) => p.name === 'on_execve')?.detail ?? '', /not in attach\.only/);

      // The verifier's whole log, far past the 8 KiB the guest used to keep, with its reason at the end.
      const broken = result.results.find((r) => r.case.probe === 'big-broken');
      assert.equal(broken?.result, 'failed');
      const log = broken?.verifierLog ?? '';
      assert.ok(log.length > 32 * 1024, `the whole log came over the console (${log.length} bytes)`);
      assert.match(log, /BEGIN PROG LOAD LOG[\s\S]*invalid access to map value|BEGIN PROG LOAD LOG[\s\S]*unbounded/);
      assert.match(log, /END PROG LOAD LOG/);
      assert.doesNotMatch(log, /console lost part/);
      assert.deepEqual(programs(result, 'big-broken'), { big_broken: 'failed' });
      assert.match(broken?.detail ?? '', /load failed: .*(invalid access to map value|unbounded|outside of the allowed memory range)/);

      // struct bpf_map_def SEC("maps"): the legacy loader (libbpf 0.3) loads, attaches and counts.
      const old = result.results.find((r) => r.case.probe === 'legacy');
      assert.equal(old?.result, 'ok', `${old?.detail ?? ''}\n${old?.verifierLog ?? ''}`);
      assert.ok((old?.events ?? 0) >= 3, `legacy_count = ${old?.events}`);
      assert.deepEqual(programs(result, 'legacy'), { legacy_execve: 'attached' });
      assert.match(old?.detail ?? '', /legacy maps/);

      // What the project's loader sets before loading: map sizes, the inner ring buffer, the filter's program type.
      const fitted = result.results.find((r) => r.case.probe === 'sized');
      assert.equal(fitted?.result, 'ok', `${fitted?.detail ?? ''}\n${fitted?.verifierLog ?? ''}`);
      assert.ok((fitted?.events ?? 0) >= 3, `sized_count = ${fitted?.events}`);
      assert.match(fitted?.detail ?? '', /maps typo_map matches no map/);
      assert.deepEqual(programs(result, 'sized'), {
        count_execve: 'attached',
        typed_filter: 'attached',
        tc_pass: 'loaded',
        on_cpu_clock: 'attached',
        devmap_egress: 'attached',
        cpumap_pass: 'attached',
      });
      assert.match(fitted?.programs?.find((p) => p.name === 'tc_pass')?.detail ?? '', /no tc hook on lo in this guest/, 'a 6.1 guest has no tcx and no clsact module');
      // Without the policy the same object cannot even create its maps.
      const unfitted = result.results.find((r) => r.case.probe === 'unsized');
      assert.equal(unfitted?.result, 'failed');
      assert.match(unfitted?.detail ?? '', /load failed/);

      // autoload.maps: the ring buffers' array is not created, and the program that uses it is left out too.
      const noRings = result.results.find((r) => r.case.probe === 'no-rings');
      assert.equal(noRings?.result, 'ok', `${noRings?.detail ?? ''}\n${noRings?.verifierLog ?? ''}`);
      assert.equal(programs(result, 'no-rings')['count_execve'], 'skipped');

      // Triggers beyond execve: each counter reaches its count. A ring buffer as the event check's map: its records are the events.
      for (const probe of ['on-open', 'on-connect', 'on-packet', 'on-open-ringbuf', 'on-command']) {
        const counted = result.results.find((r) => r.case.probe === probe);
        assert.equal(counted?.result, 'ok', `${probe}: ${counted?.detail ?? ''}\n${counted?.verifierLog ?? ''}`);
        assert.ok((counted?.events ?? 0) >= 4, `${probe}: ${counted?.events} events`);
      }
    });
  }

  // opensnitch 1.6's objects: maps in gobpf's per-map sections, which no libbpf opens; loaded as gobpf's ELF loader loads them.
  it("x86_64: an object with gobpf's per-map 'maps/<name>' sections loads and attaches as gobpf loads it", async () => {
    const policy: ProbeCheck = { maps: [{ name: 'seen', maxEntries: 'cpus' }], attachOptional: ['kprobe__missing'] };
    const result = await verifyKernel({
      kernel: KERNELS.x86_64,
      cases: [aCase('gobpf', gobpf, policy), aCase('gobpf-unsized', gobpf, { attachOptional: ['kprobe__missing'] }), aCase('gobpf-strict', gobpf, { maps: policy.maps ?? [] })],
      timeoutMs: 180_000,
      cacheDir: cacheRoot(),
    });
    assert.equal(result.outcome, 'completed', result.consoleTail);
    const got = result.results.find((r) => r.case.probe === 'gobpf');
    assert.equal(got?.result, 'ok', `${got?.detail ?? ''}\n${got?.verifierLog ?? ''}`);
    assert.match(got?.detail ?? '', /gobpf's per-map sections/);
    assert.deepEqual(programs(result, 'gobpf'), {
      tracepoint__syscalls__sys_enter_execve: 'attached',
      kprobe__tcp_v4_connect: 'attached',
      kretprobe__tcp_v4_connect: 'attached',
      uprobe__getaddrinfo: 'loaded',
      kprobe__missing: 'loaded',
    });
    const detail = (name: string): string => got?.programs?.find((p) => p.name === name)?.detail ?? '';
    assert.match(detail('kretprobe__tcp_v4_connect'), /attached to tcp_v4_connect \(SEC\("kretprobe\/tcp_v4_connect"\), gobpf's ELF layout\)/);
    assert.match(detail('uprobe__getaddrinfo'), /binary is the project's loader's choice at run time/);
    // max_entries 0 in the object: without the policy's size the map cannot be created.
    const unsized = result.results.find((r) => r.case.probe === 'gobpf-unsized');
    assert.equal(unsized?.result, 'failed');
    assert.match(unsized?.detail ?? '', /creating map seen \(type 1, key 4, value 4, 0 entries\) failed/);
    // A kprobe on a function the kernel lacks is required unless the policy says optional.
    const strict = result.results.find((r) => r.case.probe === 'gobpf-strict');
    assert.equal(strict?.result, 'failed');
    assert.match(strict?.detail ?? '', /attaching kprobe__missing failed/);
  });

  // bpftune's loader: when the load fails, it loads again without its optional programs (bpftuner_bpf_load's optionals).
  it('x86_64: autoload.optional loads again without those programs when the first load fails', async () => {
    const result = await verifyKernel({
      kernel: KERNELS.x86_64,
      cases: [aCase('optional-load', optionalLoad, { autoloadOptional: ['entry__*'] }), aCase('required-load', optionalLoad, {})],
      timeoutMs: 180_000,
      cacheDir: cacheRoot(),
    });
    assert.equal(result.outcome, 'completed', result.consoleTail);
    const got = result.results.find((r) => r.case.probe === 'optional-load');
    assert.equal(got?.result, 'ok', `${got?.detail ?? ''}\n${got?.verifierLog ?? ''}`);
    assert.deepEqual(programs(result, 'optional-load'), { on_execve: 'attached', entry__inlined: 'skipped' });
    assert.match(got?.programs?.find((p) => p.name === 'entry__inlined')?.detail ?? '', /the first load failed, and the project's loader loads again without it \(autoload\.optional/);
    const required = result.results.find((r) => r.case.probe === 'required-load');
    assert.equal(required?.result, 'failed');
    assert.match(required?.detail ?? '', /load failed/);
  });

  // pwru's kprobe.multi programs: its loader attaches them as multi-kprobes (link.KprobeMulti), never as perf-event kprobes (EINVAL).
  for (const [release, multiAttaches] of [['6.12.117+deb13-cloud-amd64', true], ['6.1.0-50-cloud-amd64', false]] as const) {
    it(`x86_64 ${release}: attach.targets attaches kprobe.multi programs as multi-kprobes${multiAttaches ? '' : '; without CONFIG_FPROBE that attach fails'}`, async () => {
      const result = await verifyKernel({
        kernel: { distro: 'debian', release, arch: 'x86_64' },
        cases: [aCase('multi', multi, { attachTargets: [{ programs: '*_skb_1', target: 'consume_skb' }] }), aCase('not-bpf', notBpf, {})],
        timeoutMs: 180_000,
        cacheDir: cacheRoot(),
      });
      assert.equal(result.outcome, 'completed', result.consoleTail);
      const got = result.results[0];
      const detail = (name: string): string => got?.programs?.find((p) => p.name === name)?.detail ?? '';
      if (multiAttaches) {
        assert.equal(got?.result, 'ok', `${got?.detail ?? ''}\n${got?.verifierLog ?? ''}`);
        assert.deepEqual(programs(result, 'multi'), { single_skb_1: 'attached', multi_skb_1: 'attached', multi_ret_skb_1: 'attached' });
        assert.match(detail('multi_skb_1'), /attached to consume_skb \(SEC\("kprobe\.multi\/skb-1"\)/);
      } else {
        // Debian's 6.1 has no fprobe: a target the policy named that does not attach is a failure, not "no attach target".
        assert.equal(got?.result, 'failed');
        assert.deepEqual(programs(result, 'multi'), { single_skb_1: 'attached', multi_skb_1: 'failed', multi_ret_skb_1: 'failed' });
        assert.match(detail('multi_skb_1'), /attaching SEC\("kprobe\.multi\/skb-1"\) to consume_skb failed: Operation not supported/);
      }
      // libbpf's own error codes in words (strerror has none for them: "Unknown error 4003").
      const refused = result.results.find((r) => r.case.probe === 'not-bpf');
      assert.equal(refused?.result, 'failed');
      assert.match(refused?.detail ?? '', /^libbpf cannot open the object: BPF object format invalid/);
    });
  }

  it('x86_64 6.12: tc programs attach on lo with a tcx link', async () => {
    const result = await verifyKernel({
      kernel: { distro: 'debian', release: '6.12.117+deb13-cloud-amd64', arch: 'x86_64' },
      cases: [aCase('sized', sized, SIZING)],
      timeoutMs: 180_000,
      cacheDir: cacheRoot(),
    });
    assert.equal(result.outcome, 'completed', result.consoleTail);
    const fitted = result.results[0];
    assert.equal(fitted?.result, 'ok', `${fitted?.detail ?? ''}\n${fitted?.verifierLog ?? ''}`);
    assert.deepEqual(programs(result, 'sized'), {
      count_execve: 'attached',
      typed_filter: 'attached',
      tc_pass: 'attached',
      on_cpu_clock: 'attached',
      devmap_egress: 'attached',
      cpumap_pass: 'attached',
    });
  });
});
