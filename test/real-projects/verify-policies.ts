/**
 * The kernels.yaml `verify` policy each real project needs for its objects
 * to be proven (load + attach in QEMU) with kbuild's generic guest loader,
 * unmodified. Each entry says why, from what the project's own loader does.
 * Shared by verify-corpus.test.ts, bench/verify-real-projects.ts and
 * docs/real-projects.md (which shows the same entries).
 */
import { CORPUS_KERNELS, type CorpusProbe } from './corpus-probes.js';

/** The corpus kernels plus a 16K-page arm64 kernel (BTF for CO-RE builds still from 6.1.0-50-arm64). */
export const ARM64_16K = '6.12.117+deb13-arm64-16k';
export const VERIFY_KERNELS = CORPUS_KERNELS.replace('btf:\n', `  - { distro: debian, release: ${ARM64_16K}, arch: arm64 }\nbtf:\n`);
export const VERIFY_RELEASES = ['6.1.0-50-cloud-amd64', '6.12.117+deb13-cloud-amd64', '6.1.0-50-arm64', '5.10.0-32-cloud-amd64', ARM64_16K];

const OFF = '    verify: false\n';

// ---------------------------------------------------------------- systemd
// restrict-fs, restrict-ifaces and socket-bind leave max_entries 0 for
// systemd to set before loading (src/core/bpf-*.c): cgroup_hash to 2048
// (CGROUP_HASH_SIZE_MAX) with a dummy inner hash (u32 -> u32, 128 entries)
// "to satisfy the verifier"; sd_restrictif, sd_bind_allow and sd_bind_deny to
// the size of the unit's set, at least 1. The `maps` policy does the same.
// restrict-fs is a BPF LSM program: arm64's 6.1 kernel refuses to attach it
// (ENOTSUPP, 524: no BPF trampoline for LSM there), which systemd finds out
// itself (lsm_bpf_supported() loads and attaches a test program) and then
// runs without RestrictFileSystems=; so its attach is optional on arm64 < 6.12.
// sysctl-monitor calls bpf_current_task_under_cgroup, which 6.1 does not offer
// to cgroup/sysctl programs ("unknown func"; 5.10 stops earlier on func_info):
// systemd-networkd logs that and runs without it, so it is proven on 6.12 only.
// userns-restrict (BPF LSM) needs the bpf_rdonly_cast kfunc (6.2+), and passes
// it bpf_core_type_id_kernel() ids: relocated against a minimized external BTF
// those are ids of that BTF, not the kernel's, and the verifier refuses them —
// external BTF is for kernels without BTF, which have no kfuncs anyway. Its
// LSM programs attach: Debian's kernels list "bpf" among their LSMs.
export const SYSTEMD_VERIFY: Readonly<Record<string, string>> = {
  'systemd-restrict-fs': [
    '    verify:',
    '      maps: { cgroup_hash: { maxEntries: 2048, inner: { type: hash, maxEntries: 128 } } }',
    '      kernels: [{ arch: arm64, when: "<6.12", attach: { optional: [restrict_filesystems] } }]',
    '',
  ].join('\n'),
  'systemd-restrict-ifaces': '    verify:\n      maps: { sd_restrictif: { maxEntries: 1 } }\n',
  'systemd-socket-bind': '    verify:\n      maps: { sd_bind_allow: { maxEntries: 1 }, sd_bind_deny: { maxEntries: 1 } }\n',
  'systemd-sysctl-monitor': '    verify:\n      kernels: [{ when: "<6.12", verify: false }]\n',
  'systemd-userns-restrict': '    verify:\n      kernels: [{ when: "<6.12", verify: false }, { mode: core-external-btf, verify: false }]\n',
};

// ---------------------------------------------------------------- suricata
// xdp_filter and xdp_lb declare their maps the legacy way (SEC("maps")): the
// legacy guest loader (libbpf 0.3) loads and attaches them on lo; it cannot
// take an external BTF, so their core-external-btf cases are not-verifiable.
// filter, bypass_filter, lb and vlan_filter put their programs in sections
// named "filter" and "loadbalancer", which name no program type: Suricata
// sets it itself (bpf_program__set_socket_filter, util-ebpf.c) before
// loading, and so does the `programTypes` policy. filter and bypass_filter
// also have legacy maps (the legacy loader); lb and vlan_filter have none.
const SOCKET_FILTER = '    verify:\n      programTypes: { "*": socket_filter }\n';
export const SURICATA_VERIFY: Readonly<Record<string, string>> = {
  'suricata-vlan-filter': SOCKET_FILTER,
  'suricata-filter': SOCKET_FILTER,
  'suricata-bypass-filter': SOCKET_FILTER,
  'suricata-lb': SOCKET_FILTER,
};

// ---------------------------------------------------------------- xdp-tools
// xdp-bench's and xdp-redirect's programs, xdp-monitor and xdp-trafficgen
// share headers/xdp/xdp_sample_common.bpf.h's counters with max_entries 0:
// lib/util/xdp_sample.c (sample_setup_maps) sizes them before loading, per
// CPU, XDP_REDIRECT_ERR_MAX (7) or XDP_ACTION_MAX (6) per CPU, CPU x CPU for
// cpumap_enqueue_cnt, the interface's RX queues for rxq_cnt (lo has one);
// xdp_redirect_cpumap.c sizes cpu_map and cpus_available to the CPU count.
// Where the tools check the kernel first, so does the policy: xdp-bench's
// load-bytes mode needs bpf_xdp_load_bytes (5.18), xdp-trafficgen's tcp mode
// bpf_ktime_get_coarse_ns (5.11). On 5.10, generic XDP (lo, the guest's only
// interface) refuses a program that redirects into a devmap or cpumap able to
// hold programs (EINVAL): xdp-bench's *_native and cpumap programs are for a
// driver's native XDP, which the guest has not, so their attach is optional
// there (they load; 6.1 and later attach them on lo).
// xdp_flowtable*.bpf.c call the bpf_xdp_flow_lookup kfunc of nf_flow_table,
// a module the guest does not load ("not found in kernel or module BTFs").
// xdpdump_bpf.c's fentry/fexit programs name no target ("func"): xdpdump
// sets it to the XDP program it dumps, at run time.
// xdp_load_bytes.bpf.c is xdp-tools' probe for bpf_xdp_load_bytes (5.18):
// that it does not load on 5.10 is the answer xdp-tools wants there. So is
// xdp_sample.bpf.c's bpf_printk with four arguments (bpf_trace_vprintk, 5.16).
// The rest (xdp-filter's ten, xdp-forward's two on lo in turn, xsk, testing
// programs) load and attach with no policy.
export const XDP_TOOLS_SIZED_BY_TOOL = ['xdp-basic', 'xdp-redirect-basic', 'xdp-redirect-cpumap', 'xdp-redirect-devmap', 'xdp-redirect-devmap-multi', 'xdp-monitor', 'xdp-trafficgen'];
const SAMPLE_MAPS = [
  '      maps:',
  '        rx_cnt: { maxEntries: cpus }',
  '        rxq_cnt: { maxEntries: 1 }',
  '        redir_err_cnt: { maxEntries: "cpus*7" }',
  '        cpumap_enqueue_cnt: { maxEntries: "cpus*cpus" }',
  '        cpumap_kthread_cnt: { maxEntries: cpus }',
  '        exception_cnt: { maxEntries: "cpus*6" }',
  '        devmap_xmit_cnt: { maxEntries: cpus }',
].join('\n');
const sampleMaps = (extra = ''): string => `    verify:\n${SAMPLE_MAPS}\n${extra}`;
const kernelRule = (rule: string): string => `      kernels: [${rule}]\n`;
const LOAD_BYTES = '{ when: "<5.18", autoload: { disable: ["*_load_bytes_prog"] } }';
const nativeOnly = (globs: string): string => `{ when: "<6.1", attach: { optional: [${globs}] } }`;
export const XDP_TOOLS_VERIFY: Readonly<Record<string, string>> = {
  ...Object.fromEntries(XDP_TOOLS_SIZED_BY_TOOL.map((name) => [name, sampleMaps()])),
  'xdp-basic': sampleMaps(kernelRule(LOAD_BYTES)),
  'xdp-redirect-basic': sampleMaps(kernelRule(LOAD_BYTES)),
  'xdp-redirect-cpumap': sampleMaps(`        cpu_map: { maxEntries: cpus }\n        cpus_available: { maxEntries: cpus }\n${kernelRule(nativeOnly('"cpumap_*"'))}`),
  'xdp-redirect-devmap': sampleMaps(kernelRule(nativeOnly('"*_native"'))),
  'xdp-redirect-devmap-multi': sampleMaps(kernelRule(nativeOnly('"*_native"'))),
  'xdp-trafficgen': sampleMaps(kernelRule('{ when: "<5.11", autoload: { disable: [xdp_redirect_send_tcp] } }')),
  'xdp-flowtable': OFF,
  'xdp-flowtable-sample': OFF,
  'xdpdump-bpf': OFF,
  'xdp-load-bytes': '    verify:\n      kernels: [{ when: "<5.18", verify: false }]\n',
  'xdp-sample': '    verify:\n      kernels: [{ when: "<5.16", verify: false }]\n',
};

// ---------------------------------------------------------------- pwru
// main.go with its default flags: fentry_tc is deleted from the spec (its
// target is the tc program --filter-trace-tc traces, set at run time), and
// without --filter-track-skb so are the skb-tracking programs; kprobe_skb_N
// goes on every function whose N-th argument is a struct sk_buff * (one
// example each; the kprobe itself does not check), kprobe.multi ones as
// multi-kprobes. Debian's 6.1 has no CONFIG_FPROBE, where pwru finds
// multi-kprobes missing and loads its kprobe objects instead.
const PWRU_POLICY = [
  '    verify:',
  '      autoload: { disable: [fentry_tc, kprobe_skb_lifetime_termination, fexit_skb_clone, fexit_skb_copy] }',
  '      attach:',
  '        targets: { kprobe_skb_1: consume_skb, kprobe_skb_2: tcp_v4_do_rcv, kprobe_skb_3: ip_output, kprobe_skb_4: tcp_conn_request, kprobe_skb_5: consume_skb }',
  '',
].join('\n');
const PWRU_MULTI = `${PWRU_POLICY}      kernels: [{ when: "<6.12", verify: false }]\n`;
export const PWRU_VERIFY: Readonly<Record<string, string>> = {
  'kprobe-pwru': PWRU_POLICY,
  'kprobe-pwru-without-output-skb': PWRU_POLICY,
  'kprobe-multi-pwru': PWRU_MULTI,
  'kprobe-multi-pwru-without-output-skb': PWRU_MULTI,
};

// ---------------------------------------------------------------- bpftune
// bpftuner_bpf_load: when a tuner's load fails, bpftune loads it again without
// its optional programs (route_table_tuner.c: entry__fib6_age, which Debian's
// 6.12 inlines). tcp_buffer_tuner's fentry on tcp_syn_flood_action has no such
// fallback, and Debian's 6.1 inlines that function: bpftune gives up on the
// tuner there, and so does the policy. The -legacy and -nobtf objects are for
// kernels the plain ones cannot load on; not listed here.
export const BPFTUNE_VERIFY: Readonly<Record<string, string>> = {
  'bpftune-route-table-tuner': '    verify:\n      autoload: { optional: [entry__fib6_age] }\n',
  'bpftune-tcp-buffer-tuner': '    verify:\n      kernels: [{ when: "<6.12", verify: false }]\n',
};

/** The verify entry of a probe: the project's policy, or load + attach with no policy. */
export function verifyEntry(policies: Readonly<Record<string, string>>): (probe: CorpusProbe) => string {
  return (probe) => policies[probe.name] ?? '';
}
