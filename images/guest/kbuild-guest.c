// SPDX-License-Identifier: Apache-2.0
/*
 * kbuild's guest loader: /init of the initramfs `kbuild verify` boots.
 *
 * It mounts what libbpf needs, prints the booted release, then runs every
 * case of /manifest in a child of its own (a crash in libbpf or a hang must
 * not take init down): open the object (with an external BTF for
 * core-external-btf), apply the probe's policy as the project's own loader
 * would (autoload off for some programs, program types, map sizes and inner
 * maps), load, then attach each program the policy and the object allow and
 * report each one; when the case has an event check, trigger the event
 * (execve, open, connect or a packet on lo) and read the counter map. Results go to the console as lines the host parses:
 *
 *   KBUILD-UNAME <release>
 *   KBUILD-START <case>                                  (on the wire before the case runs)
 *   KBUILD-LOG <case> <seq> <length> <base64 chunk>     (libbpf + verifier output)
 *   KBUILD-PROG <case> <attached|loaded|skipped|failed> <length> <base64 "name\ndetail">
 *   KBUILD-RESULT <case> <ok|failed|not-verifiable|inconclusive> <events> <log chunks> <length> <base64 detail>
 *   KBUILD-DONE <cases>
 *
 * Base64 keeps hostile bytes (names, verifier text) out of the line format;
 * chunks keep most lines intact when the kernel prints in between, and the
 * length before each base64 field tells a damaged line from a good one.
 * Then it reboots; QEMU runs with -no-reboot, so it exits.
 *
 * The manifest, written by the host (src/verify/manifest.ts), one directive a line:
 *   policy <skip|optional|only|noautoload|nocreate|loadoptional> <glob>    (for the next case line; nocreate: maps;
 *                   loadoptional: left out of a second load when the first fails)
 *   progtype <glob> <libbpf program type name>  (bpf_program__set_type before the load)
 *   target <glob> <raw tracepoint | category/tracepoint | kprobe function>  (where to attach instead of the section name)
 *   map <name> <max_entries|cpus|-> <inner type|-> <inner key size> <inner value size> <inner max_entries|cpus>
 *   loader legacy   (the next case runs in /init-legacy, built against a pre-1.0 libbpf)
 *   loader gobpf    (the next case's maps are in gobpf's "maps/<name>" sections: gobpf-loader.c loads it)
 *   case <index> <mode> <object> <btf|-> <execve|open|connect|packet|none> <counter map|-> <count>
 *   case-timeout <seconds>
 *   hang            (tests: never finish, so the host's time limit must act)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <arpa/inet.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <fnmatch.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* The log keeps its head and its end: a verifier's reason is its last line. */
#define LOG_HEAD (256 * 1024)
#define LOG_TAIL (768 * 1024)
#define CHUNK 1536
#define MAX_FIELD 256
#define MAX_POLICY 64
#define MAX_PROG_IDS 4096

/* A map the project's loader sizes before loading; counts are "-" (as the object says), N, "cpus", "cpus*N" or "cpus*cpus". */
struct map_policy {
	char name[MAX_FIELD];
	char max_entries[32];
	int inner_type; /* 0: no inner map */
	long inner_key, inner_value;
	char inner_max[32];
};

struct type_policy {
	char glob[MAX_FIELD];
	int type;
};

struct target_policy {
	char glob[MAX_FIELD];
	char target[MAX_FIELD];
};

struct guest_case {
	int index;
	char mode[32];
	char object[MAX_FIELD];
	char btf[MAX_FIELD];
	char trigger[32];
	char counter_map[MAX_FIELD];
	long count;
	/* Run by /init-legacy (a pre-1.0 libbpf, for `struct bpf_map_def SEC("maps")` objects). */
	int legacy;
	/* Maps in gobpf's per-map "maps/<name>" sections: loaded as gobpf does (gobpf-loader.c). */
	int gobpf;
	/* The manifest lines of this case, handed to /init-legacy as they are. */
	char raw[MAX_POLICY * 8 * (MAX_FIELD + 48) + 2048];
	size_t raw_len;
	/* Globs: load but do not attach / attach failure allowed / not loaded at all. */
	char skip[MAX_POLICY][MAX_FIELD];
	char optional[MAX_POLICY][MAX_FIELD];
	char noautoload[MAX_POLICY][MAX_FIELD];
	/* When any: attach only these, load the rest. */
	char only[MAX_POLICY][MAX_FIELD];
	/* Maps not created (bpf_map__set_autocreate false). */
	char nocreate[MAX_POLICY][MAX_FIELD];
	/* Left out of a second load when the first fails (bpftune's optional programs). */
	char loadoptional[MAX_POLICY][MAX_FIELD];
	int n_skip, n_optional, n_noautoload, n_only, n_nocreate, n_loadoptional;
	struct map_policy maps[MAX_POLICY];
	struct type_policy types[MAX_POLICY];
	struct target_policy targets[MAX_POLICY];
	int n_maps, n_types, n_targets;
};

/* libbpf's names (libbpf_bpf_prog_type_str); kbuild's policy-names.ts lists the same. */
static const struct {
	const char *name;
	int type;
} prog_types[] = {
	{ "socket_filter", BPF_PROG_TYPE_SOCKET_FILTER }, { "kprobe", BPF_PROG_TYPE_KPROBE },
	{ "sched_cls", BPF_PROG_TYPE_SCHED_CLS },	  { "sched_act", BPF_PROG_TYPE_SCHED_ACT },
	{ "tracepoint", BPF_PROG_TYPE_TRACEPOINT },	  { "xdp", BPF_PROG_TYPE_XDP },
	{ "perf_event", BPF_PROG_TYPE_PERF_EVENT },	  { "cgroup_skb", BPF_PROG_TYPE_CGROUP_SKB },
	{ "cgroup_sock", BPF_PROG_TYPE_CGROUP_SOCK },	  { "lwt_in", BPF_PROG_TYPE_LWT_IN },
	{ "lwt_out", BPF_PROG_TYPE_LWT_OUT },		  { "lwt_xmit", BPF_PROG_TYPE_LWT_XMIT },
	{ "sock_ops", BPF_PROG_TYPE_SOCK_OPS },		  { "sk_skb", BPF_PROG_TYPE_SK_SKB },
	{ "cgroup_device", BPF_PROG_TYPE_CGROUP_DEVICE }, { "sk_msg", BPF_PROG_TYPE_SK_MSG },
	{ "raw_tracepoint", BPF_PROG_TYPE_RAW_TRACEPOINT }, { "cgroup_sock_addr", BPF_PROG_TYPE_CGROUP_SOCK_ADDR },
	{ "flow_dissector", BPF_PROG_TYPE_FLOW_DISSECTOR }, { "cgroup_sysctl", BPF_PROG_TYPE_CGROUP_SYSCTL },
	{ "cgroup_sockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT },
};

static const struct {
	const char *name;
	int type;
} map_types[] = {
	{ "hash", BPF_MAP_TYPE_HASH },		   { "array", BPF_MAP_TYPE_ARRAY },     { "percpu_hash", BPF_MAP_TYPE_PERCPU_HASH },
	{ "percpu_array", BPF_MAP_TYPE_PERCPU_ARRAY }, { "lru_hash", BPF_MAP_TYPE_LRU_HASH }, { "ringbuf", BPF_MAP_TYPE_RINGBUF },
};

#define lookup_type(table, text)                                              \
	({                                                                    \
		int found_ = -1;                                              \
		for (size_t i_ = 0; i_ < sizeof(table) / sizeof(table[0]); i_++) \
			if (strcmp(table[i_].name, (text)) == 0)              \
				found_ = table[i_].type;                      \
		found_;                                                       \
	})

static char log_head[LOG_HEAD];
static size_t head_len;
static char log_tail[LOG_TAIL];
static size_t tail_pos, tail_len;
static unsigned long long log_dropped;
static char *self_path = "/init";

static void drain_console(void);

/* One write(2) per line, so concurrent kernel messages do not land mid-line. */
static void emit(const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	for (int off = 0; off < n;) {
		ssize_t w = write(1, line + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += w;
	}
}

static void base64(const unsigned char *in, size_t len, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = in[i] << 16 | (i + 1 < len ? in[i + 1] << 8 : 0) | (i + 2 < len ? in[i + 2] : 0);
		out[o++] = t[(v >> 18) & 63];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = i + 1 < len ? t[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? t[v & 63] : '=';
	}
	out[o] = '\0';
}

static void log_reset(void)
{
	head_len = tail_pos = tail_len = 0;
	log_dropped = 0;
}

static void log_append(const char *text, size_t len)
{
	size_t room = LOG_HEAD - head_len;
	size_t n = len < room ? len : room;
	memcpy(log_head + head_len, text, n);
	head_len += n;
	text += n;
	len -= n;
	/* Past the head: a ring of the latest bytes; what it overwrites is dropped. */
	for (size_t i = 0; i < len; i++) {
		if (tail_len == LOG_TAIL)
			log_dropped++;
		else
			tail_len++;
		log_tail[tail_pos] = text[i];
		tail_pos = (tail_pos + 1) % LOG_TAIL;
	}
}

/* libbpf's messages, including the whole verifier log it prints when a load fails. */
static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	va_list copy;
	va_copy(copy, ap);
	char small[1024];
	int n = vsnprintf(small, sizeof(small), fmt, copy);
	va_end(copy);
	if (n <= 0)
		return 0;
	if ((size_t)n < sizeof(small)) {
		log_append(small, n);
		return 0;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		log_append(small, sizeof(small) - 1);
		return 0;
	}
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	log_append(big, n);
	free(big);
	return 0;
}

static void emit_log_bytes(int index, const char *data, size_t len, int *chunks)
{
	char chunk_b64[CHUNK * 4 / 3 + 8];
	for (size_t off = 0; off < len; off += CHUNK, (*chunks)++) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		base64((const unsigned char *)data + off, n, chunk_b64);
		emit("KBUILD-LOG %d %d %zu %s", index, *chunks, strlen(chunk_b64), chunk_b64);
	}
}

static void report(const struct guest_case *c, const char *result, unsigned long long events, const char *detail)
{
	int chunks = 0;
	emit_log_bytes(c->index, log_head, head_len, &chunks);
	if (log_dropped > 0) {
		char note[160];
		int n = snprintf(note, sizeof(note), "\n[kbuild guest: %llu bytes dropped from the middle of the log]\n", log_dropped);
		emit_log_bytes(c->index, note, n, &chunks);
	}
	if (tail_len > 0) {
		/* The ring in order: from its oldest byte to its newest. */
		size_t start = tail_len == LOG_TAIL ? tail_pos : 0;
		size_t first = tail_len == LOG_TAIL ? LOG_TAIL - start : tail_len;
		char *ordered = malloc(tail_len);
		if (ordered) {
			memcpy(ordered, log_tail + start, first);
			memcpy(ordered + first, log_tail, tail_len - first);
			emit_log_bytes(c->index, ordered, tail_len, &chunks);
			free(ordered);
		}
	}
	char detail_b64[1400];
	char short_detail[1000];
	snprintf(short_detail, sizeof(short_detail), "%s", detail);
	base64((const unsigned char *)short_detail, strlen(short_detail), detail_b64);
	emit("KBUILD-RESULT %d %s %llu %d %zu %s", c->index, result, events, chunks, strlen(detail_b64), detail_b64);
}

/* One program's result: its name and why, base64 because names come from the object. */
static void report_program(const struct guest_case *c, const char *result, const char *name, const char *detail)
{
	char text[800];
	char b64[1100];
	snprintf(text, sizeof(text), "%s\n%s", name, detail);
	base64((const unsigned char *)text, strlen(text), b64);
	emit("KBUILD-PROG %d %s %zu %s", c->index, result, strlen(b64), b64);
}

static int matches(const char list[][MAX_FIELD], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (fnmatch(list[i], name, 0) == 0)
			return 1;
	return 0;
}

static int run_self(long count, const char *mode)
{
	for (long i = 0; i < count; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0) {
			char *argv[] = { self_path, (char *)mode, NULL };
			char *envp[] = { NULL };
			execve(self_path, argv, envp);
			_exit(127);
		}
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return -ECHILD;
	}
	return 0;
}

static int trigger_execve(long count)
{
	return run_self(count, "--trigger");
}

/* A short command's whole life: fork, execve, open + read a file, write to a pipe, exit (sched_process_* and the syscalls in between). */
static int trigger_command(long count)
{
	return run_self(count, "--trigger-command");
}

static int short_command(void)
{
	char buf[256];
	int fd = open("/manifest", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	int p[2];
	if (n < 0 || pipe(p) != 0)
		return 1;
	int ok = write(p[1], buf, (size_t)n) == n;
	close(p[0]);
	close(p[1]);
	return ok ? 0 : 1;
}

static int trigger_open(long count)
{
	for (long i = 0; i < count; i++) {
		int fd = open("/manifest", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	return 0;
}

/* A socket of `type` bound to 127.0.0.1 on a port the kernel picks, which goes into *addr. */
static int loopback_socket(int type, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) != 0 || getsockname(fd, (struct sockaddr *)addr, &len) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) != 0)) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* TCP connect(2) to a listener on loopback, accepted and closed: tcp_v4_connect, inet_csk_accept, the cgroup connect hooks. */
static int trigger_connect(long count)
{
	struct sockaddr_in addr;
	int listener = loopback_socket(SOCK_STREAM, &addr);
	if (listener < 0)
		return listener;
	int err = 0;
	for (long i = 0; i < count && !err; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
			err = -errno;
		} else {
			int peer = accept(listener, NULL, NULL);
			if (peer >= 0)
				close(peer);
		}
		if (fd >= 0)
			close(fd);
	}
	close(listener);
	return err;
}

/* A UDP datagram over lo to a bound socket: XDP and tc on lo and socket filters see it. A program that drops it is not an error. */
static int trigger_packet(long count)
{
	struct sockaddr_in addr;
	int rx = loopback_socket(SOCK_DGRAM, &addr);
	if (rx < 0)
		return rx;
	struct timeval wait = { 0, 200 * 1000 };
	setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
	int tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = tx < 0 ? -errno : 0;
	char payload[64] = "kbuild verify";
	for (long i = 0; i < count && !err; i++) {
		if (sendto(tx, payload, sizeof(payload), 0, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			err = -errno;
		else
			(void)recv(rx, payload, sizeof(payload), 0);
	}
	if (tx >= 0)
		close(tx);
	close(rx);
	return err;
}

static int trigger(const char *name, long count)
{
	if (strcmp(name, "execve") == 0)
		return trigger_execve(count);
	if (strcmp(name, "open") == 0)
		return trigger_open(count);
	if (strcmp(name, "command") == 0)
		return trigger_command(count);
	if (strcmp(name, "connect") == 0)
		return trigger_connect(count);
	if (strcmp(name, "packet") == 0)
		return trigger_packet(count);
	return -EINVAL;
}

static int count_record(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(unsigned long long *)ctx)++;
	return 0;
}

/* A ring buffer's events: the records waiting in it, consumed and counted. */
static int count_ringbuf(struct bpf_map *map, unsigned long long *out)
{
	*out = 0;
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(map), count_record, out, NULL);
	long err = libbpf_get_error(rb);
	if (!rb || err)
		return err ? (int)err : -ENOMEM;
	int n = ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return n < 0 ? n : 0;
}

/* The counter at key 0, summed over CPUs for per-CPU maps; u32 or u64 values. A ring buffer: its records. */
static int read_counter(struct bpf_map *map, unsigned long long *out)
{
	if (bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF)
		return count_ringbuf(map, out);
	enum bpf_map_type type = bpf_map__type(map);
	int percpu = type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH;
	size_t value_size = bpf_map__value_size(map);
	if (value_size != 4 && value_size != 8)
		return -EINVAL;
	int cpus = percpu ? libbpf_num_possible_cpus() : 1;
	if (cpus <= 0)
		return -EINVAL;
	size_t stride = percpu ? 8 : value_size;
	unsigned char *values = calloc(cpus, stride);
	if (!values)
		return -ENOMEM;
	__u32 key = 0;
	int err = bpf_map_lookup_elem(bpf_map__fd(map), &key, values);
	if (err) {
		err = -errno;
		free(values);
		return err;
	}
	unsigned long long sum = 0;
	for (int i = 0; i < cpus; i++) {
		unsigned char *v = values + i * stride;
		if (value_size == 8) {
			unsigned long long x;
			memcpy(&x, v, 8);
			sum += x;
		} else {
			unsigned int x;
			memcpy(&x, v, 4);
			sum += x;
		}
	}
	free(values);
	*out = sum;
	return 0;
}

/*
 * Programs the object itself put in a prog-array (BTF-defined maps with
 * __array(values, ...) initial slots; libbpf fills them at load): tail-call
 * targets, reached through the array, never attached. The guest puts
 * nothing in any array, so whatever is there came from the object.
 */
struct prog_slot {
	__u32 id;
	const char *map;
};

static int prog_array_ids(struct bpf_object *obj, struct prog_slot *slots, int max)
{
	int n = 0;
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_PROG_ARRAY || bpf_map__fd(map) < 0)
			continue;
		__u32 entries = bpf_map__max_entries(map);
		for (__u32 key = 0; key < entries && key < 65536 && n < max; key++) {
			__u32 id = 0;
			if (bpf_map_lookup_elem(bpf_map__fd(map), &key, &id) == 0 && id != 0)
				slots[n++] = (struct prog_slot){ id, bpf_map__name(map) };
		}
	}
	return n;
}

static const char *tail_call_map(struct bpf_program *prog, const struct prog_slot *slots, int n)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (n == 0 || bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) != 0)
		return NULL;
	for (int i = 0; i < n; i++)
		if (slots[i].id == info.id)
			return slots[i].map;
	return NULL;
}

#ifdef LIBBPF_MAJOR_VERSION
#define prog_type(p) bpf_program__type(p)
#else
#define prog_type(p) bpf_program__get_type(p)
#endif

/*
 * Programs libbpf cannot attach from the section name alone, attached where
 * the guest has a target: XDP on lo (ifindex 1), a socket filter on a UDP
 * socket, cgroup programs on the cgroup2 root. NULL with errno EOPNOTSUPP
 * when there is none here either. What is attached stays so until the
 * case's child exits.
 */
/*
 * lo has one XDP slot: an object with several XDP programs (xdp-tools'
 * xdp_forward.bpf.c) would see EBUSY from the second on. The previous one,
 * already reported attached, is detached to make room for the next.
 */
static struct bpf_link *xdp_on_lo;

/* Why attach_in_guest found no target, when it knows more than "none": shown with the program's result. */
static char no_target[240];

/* BPF_TCX_INGRESS (Linux 6.6): newer than the headers the loader is built with. */
#define KBUILD_TCX_INGRESS 46

/*
 * tc: a tcx link on lo where the kernel has tcx (6.6+), else the clsact
 * qdisc's ingress hook (sch_ingress and cls_bpf, modules in distro kernels
 * that the guest does not load; libbpf's tc API arrived in 0.4).
 */
static long attach_tc(struct bpf_program *prog)
{
	int fd = bpf_link_create(bpf_program__fd(prog), 1, KBUILD_TCX_INGRESS, NULL);
	if (fd >= 0)
		return 0; /* the link stays until the case's child exits */
	long err = -errno;
#ifdef LIBBPF_MAJOR_VERSION
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 1, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, tc, .prog_fd = bpf_program__fd(prog));
	int hook_err = bpf_tc_hook_create(&hook);
	if (hook_err == 0 || hook_err == -EEXIST) {
		err = bpf_tc_attach(&hook, &tc);
		if (err == 0)
			return 0;
	} else {
		err = hook_err;
	}
#endif
	snprintf(no_target, sizeof(no_target), "no tc hook on lo in this guest (no tcx before 6.6; clsact and cls_bpf are modules it does not load: %s)", strerror((int)-err));
	return -EOPNOTSUPP;
}

#ifdef LIBBPF_MAJOR_VERSION
#define expected_attach(p) bpf_program__expected_attach_type(p)
#else
#define expected_attach(p) bpf_program__get_expected_attach_type(p)
#endif

/*
 * SEC("xdp/devmap") and SEC("xdp/cpumap"): programs that run from a devmap or
 * cpumap entry, not from an interface. Their attach is the entry: a one-entry
 * map of the guest's own whose slot 0 takes the program (lo for a devmap, CPU 0
 * for a cpumap with a 192-frame queue, as xdp-bench uses); the kernel checks
 * the program's type and expected attach type on that update. The map stays
 * until the case's child exits.
 */
static long attach_in_map(struct bpf_program *prog, int cpumap)
{
	__u32 key = 0, value[2] = { cpumap ? 192 : 1, (__u32)bpf_program__fd(prog) };
#ifdef LIBBPF_MAJOR_VERSION
	int fd = bpf_map_create(cpumap ? BPF_MAP_TYPE_CPUMAP : BPF_MAP_TYPE_DEVMAP, NULL, sizeof(key), sizeof(value), 1, NULL);
#else
	int fd = bpf_create_map(cpumap ? BPF_MAP_TYPE_CPUMAP : BPF_MAP_TYPE_DEVMAP, sizeof(key), sizeof(value), 1, 0);
#endif
	if (fd < 0)
		return -errno;
	if (bpf_map_update_elem(fd, &key, value, 0) != 0)
		return -errno;
	return 0;
}

/* libbpf's own codes (4000 and up: "Relocation failed", ...) have no strerror text; errno values keep theirs. */
static const char *libbpf_error(long err)
{
	static char text[200];
	if (libbpf_strerror((int)(err < 0 ? err : -err), text, sizeof(text)) != 0)
		snprintf(text, sizeof(text), "%s", strerror((int)(err < 0 ? -err : err)));
	return text;
}

/*
 * attach.targets: where the project's loader attaches a program whose section
 * name does not say it (libscap cuts "&N" off raw_tracepoint/sched_process_fork&2).
 */
static struct bpf_link *attach_to_target(struct bpf_program *prog, const char *target, long *err)
{
	struct bpf_link *link = NULL;
	char category[MAX_FIELD];
	const char *slash = strchr(target, '/');
	switch (prog_type(prog)) {
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
		link = bpf_program__attach_raw_tracepoint(prog, target);
		break;
	case BPF_PROG_TYPE_TRACEPOINT:
		if (!slash) {
			*err = -EINVAL;
			return NULL;
		}
		snprintf(category, sizeof(category), "%.*s", (int)(slash - target), target);
		link = bpf_program__attach_tracepoint(prog, category, slash + 1);
		break;
	case BPF_PROG_TYPE_KPROBE:
#ifdef LIBBPF_MAJOR_VERSION
		/*
		 * SEC("kprobe.multi/...") loads with the multi-kprobe attach type: the
		 * kernel refuses it as a perf-event kprobe (EINVAL). Its loader attaches
		 * it to a list of symbols (pwru: link.KprobeMulti); the target is that list's one name.
		 */
		if (expected_attach(prog) == BPF_TRACE_KPROBE_MULTI) {
			LIBBPF_OPTS(bpf_kprobe_multi_opts, multi, .syms = &target, .cnt = 1,
				    .retprobe = strncmp(bpf_program__section_name(prog), "kretprobe", 9) == 0);
			link = bpf_program__attach_kprobe_multi_opts(prog, NULL, &multi);
			break;
		}
#endif
		link = bpf_program__attach_kprobe(prog, strncmp(bpf_program__section_name(prog), "kretprobe", 9) == 0, target);
		break;
	default:
		snprintf(no_target, sizeof(no_target), "attach.targets applies to raw tracepoint, tracepoint and kprobe programs");
		*err = -EOPNOTSUPP;
		return NULL;
	}
	*err = libbpf_get_error(link);
	if (!link && !*err)
		*err = -errno ? -errno : -EINVAL;
	return *err ? NULL : link;
}

/* perf_event: a software CPU clock event on CPU 0, the target a profiler samples. */
static struct bpf_link *attach_perf(struct bpf_program *prog, long *err)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.sample_period = 1000000;
	int fd = (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	struct bpf_link *link = bpf_program__attach_perf_event(prog, fd);
	*err = libbpf_get_error(link);
	return *err ? NULL : link;
}

static struct bpf_link *attach_in_guest(struct bpf_program *prog, long *err)
{
	struct bpf_link *link = NULL;
	int fd;
	switch (prog_type(prog)) {
	case BPF_PROG_TYPE_XDP:
		if (expected_attach(prog) == BPF_XDP_DEVMAP || expected_attach(prog) == BPF_XDP_CPUMAP) {
			*err = attach_in_map(prog, expected_attach(prog) == BPF_XDP_CPUMAP);
			return *err ? NULL : (struct bpf_link *)prog;
		}
		if (xdp_on_lo) {
			bpf_link__destroy(xdp_on_lo);
			xdp_on_lo = NULL;
		}
		link = bpf_program__attach_xdp(prog, 1);
		if (link && !libbpf_get_error(link))
			xdp_on_lo = link;
		break;
	case BPF_PROG_TYPE_SOCKET_FILTER:
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		int prog_fd = bpf_program__fd(prog);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)) != 0) {
			*err = -errno;
			return NULL;
		}
		*err = 0;
		/* No bpf_link for a socket filter: any non-NULL value says "attached". */
		return (struct bpf_link *)prog;
	case BPF_PROG_TYPE_SCHED_CLS:
		*err = attach_tc(prog);
		return *err ? NULL : (struct bpf_link *)prog;
	case BPF_PROG_TYPE_PERF_EVENT:
		link = attach_perf(prog, err);
		return link;
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
	case BPF_PROG_TYPE_CGROUP_DEVICE:
	case BPF_PROG_TYPE_CGROUP_SYSCTL:
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
	case BPF_PROG_TYPE_SOCK_OPS:
		fd = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY);
		if (fd < 0) {
			*err = -errno;
			return NULL;
		}
		link = bpf_program__attach_cgroup(prog, fd);
		break;
	default:
		*err = -EOPNOTSUPP;
		return NULL;
	}
	*err = libbpf_get_error(link);
	if (!link && !*err)
		*err = -EOPNOTSUPP;
	return *err ? NULL : link;
}

struct tally {
	int attached, loaded, skipped, failed;
	/* The object was loaded a second time, without its autoload.optional programs. */
	int reloaded;
	char first_failure[400];
};

/* Each program: skipped (not loaded), loaded (not attached, and why) or attached; a required program that does not attach fails. */
static void attach_programs(const struct guest_case *c, struct bpf_object *obj, struct tally *t)
{
	static struct prog_slot slots[MAX_PROG_IDS];
	int n_slots = prog_array_ids(obj, slots, MAX_PROG_IDS);
	char detail[600];
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		const char *section = bpf_program__section_name(prog);
		const char *array;
		if (!bpf_program__autoload(prog)) {
			report_program(c, "skipped", name, matches(c->noautoload, c->n_noautoload, name)
				       ? "not loaded: autoload.disable in the probe's policy"
				       : t->reloaded && matches(c->loadoptional, c->n_loadoptional, name)
				       ? "not loaded: the first load failed, and the project's loader loads again without it (autoload.optional in the probe's policy)"
				       : "not loaded: the object marks it optional (SEC(\"?...\"))");
			t->skipped++;
			continue;
		}
		if (matches(c->skip, c->n_skip, name)) {
			report_program(c, "loaded", name, "loaded, not attached: attach.skip in the probe's policy");
			t->loaded++;
			continue;
		}
		if (c->n_only > 0 && !matches(c->only, c->n_only, name)) {
			report_program(c, "loaded", name, "loaded, not attached: not in attach.only of the probe's policy");
			t->loaded++;
			continue;
		}
		if ((array = tail_call_map(prog, slots, n_slots)) != NULL) {
			snprintf(detail, sizeof(detail), "loaded, not attached: tail-call target the object places in prog-array %s", array);
			report_program(c, "loaded", name, detail);
			t->loaded++;
			continue;
		}
		/* libbpf would attach these to an interface, where the kernel refuses them. */
		int in_map = prog_type(prog) == BPF_PROG_TYPE_XDP && (expected_attach(prog) == BPF_XDP_DEVMAP || expected_attach(prog) == BPF_XDP_CPUMAP);
		const char *target = NULL;
		for (int i = 0; i < c->n_targets && !target; i++)
			if (fnmatch(c->targets[i].glob, name, 0) == 0)
				target = c->targets[i].target;
		no_target[0] = '\0';
		long err = 0;
		struct bpf_link *link = target ? attach_to_target(prog, target, &err) : in_map ? NULL : bpf_program__attach(prog);
		if (!target)
			err = in_map ? -EOPNOTSUPP : libbpf_get_error(link);
		if (!link && !err)
			err = -EOPNOTSUPP;
		if (!target && (err == -EOPNOTSUPP || err == -ESRCH)) {
			long guest_err;
			struct bpf_link *in_guest = attach_in_guest(prog, &guest_err);
			/* No target in the guest either: keep libbpf's answer. */
			if (in_guest || guest_err != -EOPNOTSUPP) {
				link = in_guest;
				err = guest_err;
			}
		}
		if (link && !err && target) {
			snprintf(detail, sizeof(detail), "attached to %s (SEC(\"%s\"); attach.targets in the probe's policy)", target, section);
			report_program(c, "attached", name, detail);
			t->attached++;
			continue;
		}
		if (link && !err) {
			snprintf(detail, sizeof(detail), "attached (SEC(\"%s\"))", section);
			report_program(c, "attached", name, detail);
			t->attached++;
			continue;
		}
		if ((err == -EOPNOTSUPP || err == -ESRCH) && no_target[0]) {
			snprintf(detail, sizeof(detail), "loaded, not attached: %s", no_target);
			report_program(c, "loaded", name, detail);
			t->loaded++;
		} else if (!target && (err == -EOPNOTSUPP || err == -ESRCH)) {
			/* With attach.targets the policy named the target: its attach failing is a failure (kprobe.multi on a kernel without CONFIG_FPROBE). */
			snprintf(detail, sizeof(detail), "loaded, not attached: libbpf cannot attach SEC(\"%s\") by itself (no attach target in the section name)", section);
			report_program(c, "loaded", name, detail);
			t->loaded++;
		} else if (matches(c->optional, c->n_optional, name)) {
			snprintf(detail, sizeof(detail), "loaded; attaching SEC(\"%s\") failed (%s), allowed by attach.optional", section, strerror((int)-err));
			report_program(c, "loaded", name, detail);
			t->loaded++;
		} else {
			snprintf(detail, sizeof(detail), "attaching SEC(\"%s\")%s%s failed: %s", section, target ? " to " : "", target ? target : "", strerror((int)-err));
			report_program(c, "failed", name, detail);
			if (t->failed++ == 0)
				snprintf(t->first_failure, sizeof(t->first_failure), "attaching %s failed: %s", name, strerror((int)-err));
		}
	}
}

/* A policy name that matches no program of the object is most likely a typo: say so in the result. */
static void unmatched_policy(const struct guest_case *c, struct bpf_object *obj, char *out, size_t size)
{
	const struct {
		const char (*list)[MAX_FIELD];
		int n;
		const char *field;
	} lists[] = { { c->skip, c->n_skip, "attach.skip" },
		      { c->optional, c->n_optional, "attach.optional" },
		      { c->only, c->n_only, "attach.only" },
		      { c->noautoload, c->n_noautoload, "autoload.disable" },
		      { c->loadoptional, c->n_loadoptional, "autoload.optional" } };
	size_t used = 0;
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		for (int i = 0; i < lists[l].n; i++) {
			int found = 0;
			struct bpf_program *prog;
			bpf_object__for_each_program(prog, obj) {
				if (fnmatch(lists[l].list[i], bpf_program__name(prog), 0) == 0)
					found = 1;
			}
			if (!found && used < size) {
				int w = snprintf(out + used, size - used, "; %s %s matches no program", lists[l].field, lists[l].list[i]);
				if (w > 0)
					used += (size_t)w;
			}
		}
	}
	for (int i = 0; i < c->n_types && used < size; i++) {
		int found = 0;
		struct bpf_program *prog;
		bpf_object__for_each_program(prog, obj) {
			if (fnmatch(c->types[i].glob, bpf_program__name(prog), 0) == 0)
				found = 1;
		}
		int w = found ? 0 : snprintf(out + used, size - used, "; programTypes %s matches no program", c->types[i].glob);
		if (w > 0)
			used += (size_t)w;
	}
	for (int i = 0; i < c->n_maps && used < size; i++) {
		int w = bpf_object__find_map_by_name(obj, c->maps[i].name) ? 0 : snprintf(out + used, size - used, "; maps %s matches no map", c->maps[i].name);
		if (w > 0)
			used += (size_t)w;
	}
	for (int i = 0; i < c->n_nocreate && used < size; i++) {
		int found = 0;
		struct bpf_map *map;
		bpf_object__for_each_map(map, obj) {
			if (fnmatch(c->nocreate[i], bpf_map__name(map), 0) == 0)
				found = 1;
		}
		int w = found ? 0 : snprintf(out + used, size - used, "; autoload.maps %s matches no map", c->nocreate[i]);
		if (w > 0)
			used += (size_t)w;
	}
}

/* An entry count of the policy, with the guest's possible CPUs for "cpus" (as loaders size per-CPU arrays). */
static long entry_count(const char *spec)
{
	if (strncmp(spec, "cpus", 4) != 0)
		return strtol(spec, NULL, 10);
	long cpus = libbpf_num_possible_cpus();
	if (spec[4] != '*')
		return cpus;
	return strcmp(spec + 5, "cpus") == 0 ? cpus * cpus : cpus * strtol(spec + 5, NULL, 10);
}

/* The policy's map sizes and inner maps, as the project's loader sets them before loading; on error, why in `why`. */
static int size_maps(const struct guest_case *c, struct bpf_object *obj, char *why, size_t size)
{
	for (int i = 0; i < c->n_maps; i++) {
		const struct map_policy *m = &c->maps[i];
		struct bpf_map *map = bpf_object__find_map_by_name(obj, m->name);
		int err = 0;
		if (!map)
			continue; /* reported as a policy name matching nothing */
		if (strcmp(m->max_entries, "-") != 0) {
#ifdef LIBBPF_MAJOR_VERSION
			err = bpf_map__set_max_entries(map, (__u32)entry_count(m->max_entries));
#else
			err = bpf_map__resize(map, (__u32)entry_count(m->max_entries));
#endif
			if (err) {
				snprintf(why, size, "setting max_entries of map %s to %ld (%s) failed: %s", m->name, entry_count(m->max_entries), m->max_entries,
					 strerror(err < 0 ? -err : err));
				return -1;
			}
		}
		if (m->inner_type == 0)
			continue;
#ifdef LIBBPF_MAJOR_VERSION
		int fd = bpf_map_create(m->inner_type, NULL, m->inner_key, m->inner_value, entry_count(m->inner_max), NULL);
#else
		int fd = bpf_create_map(m->inner_type, m->inner_key, m->inner_value, entry_count(m->inner_max), 0);
#endif
		if (fd < 0) {
			snprintf(why, size, "creating the inner map of %s (key %ld, value %ld, %ld entries) failed: %s", m->name, m->inner_key, m->inner_value,
				 entry_count(m->inner_max), strerror(errno));
			return -1;
		}
		/* libbpf keeps its own copy of the fd; ours may stay open until the case's child exits. */
		err = bpf_map__set_inner_map_fd(map, fd);
		if (err) {
			snprintf(why, size, "map %s takes no inner map: %s", m->name, strerror(err < 0 ? -err : err));
			return -1;
		}
	}
	return 0;
}

/*
 * Opens the object and applies the policy as the project's loader does before
 * bpf_object__load: autoload off (autoload.disable, and autoload.optional for
 * the second load), program types, map sizes, maps not created. NULL and why
 * in `why` when libbpf refuses it.
 */
static struct bpf_object *open_with_policy(const struct guest_case *c, struct bpf_object_open_opts *opts, int without_optional, char *why, size_t size)
{
	struct bpf_object *obj = bpf_object__open_file(c->object, opts);
	long open_err = libbpf_get_error(obj);
	if (!obj || open_err) {
		snprintf(why, size, "libbpf cannot open the object: %s", libbpf_error(open_err ? open_err : -errno));
		return NULL;
	}
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		if (matches(c->noautoload, c->n_noautoload, name) || (without_optional && matches(c->loadoptional, c->n_loadoptional, name)))
			bpf_program__set_autoload(prog, false);
		for (int i = 0; i < c->n_types; i++) {
			if (fnmatch(c->types[i].glob, name, 0) == 0) {
				bpf_program__set_type(prog, c->types[i].type);
				break;
			}
		}
	}
	if (size_maps(c, obj, why, size) != 0) {
		bpf_object__close(obj);
		return NULL;
	}
#ifdef LIBBPF_MAJOR_VERSION
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj) {
		if (matches(c->nocreate, c->n_nocreate, bpf_map__name(map)))
			bpf_map__set_autocreate(map, false);
	}
#endif
	return obj;
}

/* Whether a second load would leave anything out: an autoload.optional program the first load had. */
static int has_load_optional(const struct guest_case *c, struct bpf_object *obj)
{
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) {
		if (bpf_program__autoload(prog) && matches(c->loadoptional, c->n_loadoptional, bpf_program__name(prog)))
			return 1;
	}
	return 0;
}

/* Runs in the case's child; returns its exit status (0 once a result is reported). */
static int run_case(const struct guest_case *c)
{
	char detail[900];
	libbpf_set_print(capture_print);

	if (strcmp(c->mode, "core-kernel-btf") == 0 && access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		report(c, "not-verifiable", 0, "kernel has no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF is off)");
		return 0;
	}
	DECLARE_LIBBPF_OPTS(bpf_object_open_opts, opts);
	if (strcmp(c->mode, "core-external-btf") == 0) {
#ifdef LIBBPF_MAJOR_VERSION
		opts.btf_custom_path = c->btf;
#else
		/* btf_custom_path arrived in libbpf 0.5; the legacy loader is older. */
		report(c, "not-verifiable", 0, "the pre-1.0 libbpf of the legacy loader cannot take an external BTF");
		return 0;
#endif
	}

	struct bpf_object *obj = open_with_policy(c, &opts, 0, detail, sizeof(detail));
	if (!obj) {
		report(c, "failed", 0, detail);
		return 0;
	}
#ifndef LIBBPF_MAJOR_VERSION
	if (c->n_nocreate > 0) {
		report(c, "not-verifiable", 0, "the pre-1.0 libbpf of the legacy loader cannot leave maps out of the load (autoload.maps)");
		return 0;
	}
#endif
	int err = bpf_object__load(obj);
	struct tally t;
	memset(&t, 0, sizeof(t));
	if (err && has_load_optional(c, obj)) {
		/* As bpftune does: the load failed, so again without the programs it can do without. */
		bpf_object__close(obj);
		obj = open_with_policy(c, &opts, 1, detail, sizeof(detail));
		if (!obj) {
			report(c, "failed", 0, detail);
			return 0;
		}
		t.reloaded = 1;
		err = bpf_object__load(obj);
	}
	if (err) {
		snprintf(detail, sizeof(detail), "load failed: %s", libbpf_error(err));
		report(c, "failed", 0, detail);
		return 0;
	}
	attach_programs(c, obj, &t);
	if (t.failed > 0) {
		snprintf(detail, sizeof(detail), "%d program(s) failed to attach (%s); %d attached, %d loaded only", t.failed, t.first_failure, t.attached, t.loaded);
		report(c, "failed", 0, detail);
		return 0;
	}
	char programs[400];
	int n = snprintf(programs, sizeof(programs), "%d attached, %d loaded only, %d skipped", t.attached, t.loaded, t.skipped);
	unmatched_policy(c, obj, programs + n, sizeof(programs) - n);
	if (strcmp(c->trigger, "none") == 0) {
		snprintf(detail, sizeof(detail), "loaded and attached: %s", programs);
		report(c, "ok", 0, detail);
		return 0;
	}
	struct bpf_map *map = bpf_object__find_map_by_name(obj, c->counter_map);
	if (!map) {
		snprintf(detail, sizeof(detail), "the object has no map named %s (the event check's counterMap)", c->counter_map);
		report(c, "failed", 0, detail);
		return 0;
	}
	err = trigger(c->trigger, c->count);
	if (err) {
		snprintf(detail, sizeof(detail), "triggering %s failed: %s", c->trigger, strerror(-err));
		report(c, "failed", 0, detail);
		return 0;
	}
	unsigned long long events = 0;
	err = read_counter(map, &events);
	if (err) {
		snprintf(detail, sizeof(detail), "reading map %s failed: %s", c->counter_map, strerror(-err));
		report(c, "failed", 0, detail);
		return 0;
	}
	if (events < (unsigned long long)c->count) {
		snprintf(detail, sizeof(detail), "counter %s is %llu after %ld %s (expected >= %ld); %s", c->counter_map, events, c->count, c->trigger, c->count, programs);
		report(c, "failed", events, detail);
		return 0;
	}
	snprintf(detail, sizeof(detail), "%s; %s = %llu after %ld %s", programs, c->counter_map, events, c->count, c->trigger);
	report(c, "ok", events, detail);
	return 0;
}

/* In the case's child: the same loader built against a pre-1.0 libbpf runs this one case. */
static int exec_legacy(const struct guest_case *c)
{
	char path[64];
	snprintf(path, sizeof(path), "/case-%d.manifest", c->index);
	FILE *f = fopen(path, "w");
	if (!f || fwrite(c->raw, 1, c->raw_len, f) != c->raw_len || fclose(f) != 0) {
		report(c, "failed", 0, "cannot hand the case to the legacy loader");
		return 0;
	}
	char *argv[] = { "/init-legacy", "--one", path, NULL };
	execv(argv[0], argv);
	report(c, "failed", 0, "cannot run /init-legacy");
	return 0;
}

#ifdef LIBBPF_MAJOR_VERSION
#include "gobpf-loader.c"
#else
static int run_gobpf_case(const struct guest_case *c)
{
	report(c, "failed", 0, "the legacy loader has no gobpf-layout loader");
	return 0;
}
#endif

static void run_in_child(const struct guest_case *c, int case_timeout)
{
	pid_t pid = fork();
	if (pid < 0) {
		report(c, "failed", 0, "fork failed in the guest");
		return;
	}
	if (pid == 0) {
		alarm(case_timeout);
		if (c->legacy)
			_exit(exec_legacy(c));
		if (c->gobpf)
			_exit(run_gobpf_case(c));
		_exit(run_case(c));
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	char detail[200];
	/* Out of time inside the guest: TCG is slow on large programs, which proves nothing either way. */
	const char *result = "failed";
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
		snprintf(detail, sizeof(detail), "the case did not finish within %d s in the guest", case_timeout);
		result = "inconclusive";
	} else if (WIFSIGNALED(status))
		snprintf(detail, sizeof(detail), "the guest loader crashed: %s", strsignal(WTERMSIG(status)));
	else
		snprintf(detail, sizeof(detail), "the guest loader exited with %d before reporting", WEXITSTATUS(status));
	log_reset();
	report(c, result, 0, detail);
}

static void mount_one(const char *source, const char *target, const char *type)
{
	mkdir(target, 0755);
	if (mount(source, target, type, 0, NULL) != 0 && errno != EBUSY)
		emit("KBUILD-NOTE mount %s on %s failed: %s", type, target, strerror(errno));
}

static void setup(void)
{
	mount_one("proc", "/proc", "proc");
	mount_one("sysfs", "/sys", "sysfs");
	mount_one("devtmpfs", "/dev", "devtmpfs");
	mount_one("tracefs", "/sys/kernel/tracing", "tracefs");
	mount_one("debugfs", "/sys/kernel/debug", "debugfs");
	mount_one("bpffs", "/sys/fs/bpf", "bpf");
	mount_one("cgroup2", "/sys/fs/cgroup", "cgroup2");
	/* lo up: the connect and packet triggers go over it. */
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (sock < 0 || ioctl(sock, SIOCGIFFLAGS, &ifr) != 0 || (ifr.ifr_flags |= IFF_UP, ioctl(sock, SIOCSIFFLAGS, &ifr)) != 0)
		emit("KBUILD-NOTE bringing lo up failed: %s", strerror(errno));
	if (sock >= 0)
		close(sock);
	/* Before 5.11 the kernel charges BPF maps to RLIMIT_MEMLOCK. */
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
}

/*
 * write(2) to the console returns once the bytes are in the tty's buffer, not
 * on the wire; reboot(2) does not wait for them. Drain first, or the last
 * results never reach the host.
 */
static void drain_console(void)
{
	while (tcdrain(1) != 0 && errno == EINTR)
		;
}

static void finish(void)
{
	drain_console();
	sync();
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

/* One manifest line into the pending case; 1 when it was the case line (the case is complete). */
static int parse_line(const char *line, struct guest_case *c)
{
	char kind[32], glob[MAX_FIELD];
	size_t len = strlen(line);
	if (c->raw_len + len < sizeof(c->raw)) {
		memcpy(c->raw + c->raw_len, line, len);
		c->raw_len += len;
	}
	if (sscanf(line, "loader %31s", kind) == 1) {
		c->legacy = strcmp(kind, "legacy") == 0;
		c->gobpf = strcmp(kind, "gobpf") == 0;
		return 0;
	}
	char name[MAX_FIELD], itype[32], max[32], imax[32];
	long ikey, ivalue;
	if (sscanf(line, "target %255s %255s", glob, name) == 2) {
		if (c->n_targets < MAX_POLICY) {
			snprintf(c->targets[c->n_targets].glob, MAX_FIELD, "%s", glob);
			snprintf(c->targets[c->n_targets++].target, MAX_FIELD, "%s", name);
		}
		return 0;
	}
	if (sscanf(line, "progtype %255s %31s", glob, kind) == 2) {
		int type = lookup_type(prog_types, kind);
		if (type >= 0 && c->n_types < MAX_POLICY) {
			snprintf(c->types[c->n_types].glob, MAX_FIELD, "%s", glob);
			c->types[c->n_types++].type = type;
		}
		return 0;
	}
	if (sscanf(line, "map %255s %31s %31s %ld %ld %31s", name, max, itype, &ikey, &ivalue, imax) == 6) {
		if (c->n_maps >= MAX_POLICY)
			return 0;
		struct map_policy *m = &c->maps[c->n_maps++];
		snprintf(m->name, sizeof(m->name), "%s", name);
		snprintf(m->max_entries, sizeof(m->max_entries), "%s", max);
		snprintf(m->inner_max, sizeof(m->inner_max), "%s", imax);
		int type = strcmp(itype, "-") == 0 ? 0 : lookup_type(map_types, itype);
		m->inner_type = type > 0 ? type : 0;
		m->inner_key = ikey;
		m->inner_value = ivalue;
		return 0;
	}
	if (sscanf(line, "policy %31s %255s", kind, glob) == 2) {
		if (strcmp(kind, "skip") == 0 && c->n_skip < MAX_POLICY)
			snprintf(c->skip[c->n_skip++], MAX_FIELD, "%s", glob);
		else if (strcmp(kind, "optional") == 0 && c->n_optional < MAX_POLICY)
			snprintf(c->optional[c->n_optional++], MAX_FIELD, "%s", glob);
		else if (strcmp(kind, "noautoload") == 0 && c->n_noautoload < MAX_POLICY)
			snprintf(c->noautoload[c->n_noautoload++], MAX_FIELD, "%s", glob);
		else if (strcmp(kind, "only") == 0 && c->n_only < MAX_POLICY)
			snprintf(c->only[c->n_only++], MAX_FIELD, "%s", glob);
		else if (strcmp(kind, "nocreate") == 0 && c->n_nocreate < MAX_POLICY)
			snprintf(c->nocreate[c->n_nocreate++], MAX_FIELD, "%s", glob);
		else if (strcmp(kind, "loadoptional") == 0 && c->n_loadoptional < MAX_POLICY)
			snprintf(c->loadoptional[c->n_loadoptional++], MAX_FIELD, "%s", glob);
		return 0;
	}
	return sscanf(line, "case %d %31s %255s %255s %31s %255s %ld", &c->index, c->mode, c->object, c->btf, c->trigger,
		      c->counter_map, &c->count) == 7;
}

/* /init-legacy --one <file>: run the one case the file describes, in this process (already the case's child). */
static int run_one(const char *path)
{
	static struct guest_case c;
	char line[2048];
	FILE *f = fopen(path, "r");
	if (!f)
		return 1;
	memset(&c, 0, sizeof(c));
	while (fgets(line, sizeof(line), f)) {
		if (parse_line(line, &c)) {
			c.legacy = 0;
			fclose(f);
			return run_case(&c);
		}
	}
	fclose(f);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--trigger") == 0)
		return 0;
	if (argc > 1 && strcmp(argv[1], "--trigger-command") == 0)
		return short_command();
	if (argc > 2 && strcmp(argv[1], "--one") == 0)
		return run_one(argv[2]);
	if (argc > 0 && argv[0][0] == '/')
		self_path = argv[0];
	setup();

	struct utsname uts;
	if (uname(&uts) == 0)
		emit("KBUILD-UNAME %s", uts.release);

	FILE *manifest = fopen("/manifest", "r");
	if (!manifest) {
		emit("KBUILD-NOTE cannot open /manifest: %s", strerror(errno));
		finish();
	}
	char line[2048];
	int cases = 0, case_timeout = 120;
	/* Policy lines gather here until their case line comes. */
	static struct guest_case c;
	memset(&c, 0, sizeof(c));
	while (fgets(line, sizeof(line), manifest)) {
		if (strncmp(line, "hang", 4) == 0) {
			emit("KBUILD-NOTE hanging as the manifest asks");
			drain_console();
			for (;;)
				pause();
		}
		if (sscanf(line, "case-timeout %d", &case_timeout) == 1)
			continue;
		if (parse_line(line, &c)) {
			log_reset();
			/* Drained, so a case that takes the kernel down is still known to have started. */
			emit("KBUILD-START %d", c.index);
			drain_console();
			run_in_child(&c, case_timeout);
			cases++;
			memset(&c, 0, sizeof(c));
		}
	}
	fclose(manifest);
	emit("KBUILD-DONE %d", cases);
	finish();
	return 0;
}
