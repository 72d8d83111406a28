/**
 * The names a verify policy may use for what the guest loader sets before a
 * load: program types (libbpf's own spelling, `libbpf_bpf_prog_type_str`),
 * inner map types, and triggers. The guest loader (images/guest/kbuild-guest.c)
 * has the same tables; a name outside them never reaches the manifest.
 */

/** Program types a policy may set on programs whose section names none (suricata's SEC("filter")). */
export const PROGRAM_TYPES = [
  'socket_filter',
  'kprobe',
  'sched_cls',
  'sched_act',
  'tracepoint',
  'xdp',
  'perf_event',
  'cgroup_skb',
  'cgroup_sock',
  'lwt_in',
  'lwt_out',
  'lwt_xmit',
  'sock_ops',
  'sk_skb',
  'cgroup_device',
  'sk_msg',
  'raw_tracepoint',
  'cgroup_sock_addr',
  'flow_dissector',
  'cgroup_sysctl',
  'cgroup_sockopt',
] as const;
export type ProgramType = (typeof PROGRAM_TYPES)[number];

/** Types of the inner map a policy creates for a map-in-map the project's loader fills (Falco's ring buffers, systemd's per-cgroup sets). */
export const INNER_MAP_TYPES = ['hash', 'array', 'percpu_hash', 'percpu_array', 'lru_hash', 'ringbuf'] as const;
export type InnerMapType = (typeof INNER_MAP_TYPES)[number];

/**
 * What the guest does after attaching, for the opt-in event check: `execve`
 * runs short-lived programs, `command` runs a short command's whole life (fork,
 * execve, open and read a file, write to a pipe, exit), `open` opens a file, `connect` connects a TCP
 * socket to a listener on loopback, `packet` sends a UDP datagram over
 * loopback to a bound socket (XDP on lo sees it).
 */
export const TRIGGERS = ['execve', 'command', 'open', 'connect', 'packet'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/**
 * A map's entry count: a number, or in terms of the guest's possible CPUs
 * (libbpf_num_possible_cpus) as loaders that size per-CPU arrays do: `cpus`,
 * `cpus*N` (N per CPU), `cpus*cpus` (a CPU x CPU matrix).
 */
export type EntryCount = number | string;
export const CPU_COUNT = /^cpus(\*(cpus|[1-9][0-9]{0,5}))?$/;
export const MAX_MAP_ENTRIES = 1 << 30;

/** Where attach.targets may point: a raw tracepoint or kernel function name, or a tracepoint's "category/name". */
export const ATTACH_TARGET = /^[A-Za-z_][A-Za-z0-9_.]{0,127}(\/[A-Za-z_][A-Za-z0-9_.]{0,127})?$/;
