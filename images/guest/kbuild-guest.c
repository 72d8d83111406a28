// SPDX-License-Identifier: Apache-2.0
/*
 * kbuild's guest loader: /init of the initramfs `kbuild verify` boots.
 *
 * It mounts what libbpf needs, prints the booted release, then runs every
 * case of /manifest in a child of its own (a crash in libbpf or a hang must
 * not take init down): open the object (with an external BTF for
 * core-external-btf), load, attach every program, trigger the event, read
 * the counter map. Results go to the console as lines the host parses:
 *
 *   KBUILD-UNAME <release>
 *   KBUILD-START <case>                                  (on the wire before the case runs)
 *   KBUILD-LOG <case> <seq> <length> <base64 chunk>     (libbpf + verifier output)
 *   KBUILD-RESULT <case> <ok|failed|not-verifiable> <events> <log chunks> <length> <base64 detail>
 *   KBUILD-DONE <cases>
 *
 * Base64 keeps hostile bytes (names, verifier text) out of the line format;
 * short chunks keep most lines intact when the kernel prints in between, and
 * the length before each base64 field tells a damaged line from a good one.
 * Then it reboots; QEMU runs with -no-reboot, so it exits.
 *
 * The manifest, written by the host (src/verify/manifest.ts), one directive a line:
 *   case <index> <mode> <object> <btf|-> <counter map> <trigger> <count>
 *   case-timeout <seconds>
 *   hang            (tests: never finish, so the host's time limit must act)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MAX_LOG (64 * 1024)
#define CHUNK 384
#define MAX_FIELD 256

struct guest_case {
	int index;
	char mode[32];
	char object[MAX_FIELD];
	char btf[MAX_FIELD];
	char counter_map[MAX_FIELD];
	char trigger[32];
	long count;
};

static char log_buf[MAX_LOG + 1];
static size_t log_len;
static int log_truncated;
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

static void log_append(const char *text, size_t len)
{
	if (log_len + len > MAX_LOG) {
		len = MAX_LOG - log_len;
		log_truncated = 1;
	}
	memcpy(log_buf + log_len, text, len);
	log_len += len;
}

static void log_printf(const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n > 0)
		log_append(text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

/* libbpf's messages, including the verifier log it prints when a load fails. */
static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char text[8192];
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n > 0)
		log_append(text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
	return 0;
}

static void report(const struct guest_case *c, const char *result, unsigned long long events, const char *detail)
{
	char chunk_b64[CHUNK * 4 / 3 + 8];
	int chunks = 0;
	if (log_truncated)
		log_printf("\n[kbuild guest: log truncated at %d bytes]\n", MAX_LOG);
	for (size_t off = 0; off < log_len; off += CHUNK, chunks++) {
		size_t n = log_len - off < CHUNK ? log_len - off : CHUNK;
		base64((const unsigned char *)log_buf + off, n, chunk_b64);
		emit("KBUILD-LOG %d %d %zu %s", c->index, chunks, strlen(chunk_b64), chunk_b64);
	}
	char detail_b64[1400];
	char short_detail[1000];
	snprintf(short_detail, sizeof(short_detail), "%s", detail);
	base64((const unsigned char *)short_detail, strlen(short_detail), detail_b64);
	emit("KBUILD-RESULT %d %s %llu %d %zu %s", c->index, result, events, chunks, strlen(detail_b64), detail_b64);
}

static int trigger_execve(long count)
{
	for (long i = 0; i < count; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0) {
			char *argv[] = { self_path, "--trigger", NULL };
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

/* The counter at key 0, summed over CPUs for per-CPU maps; u32 or u64 values. */
static int read_counter(struct bpf_map *map, unsigned long long *out)
{
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

/* Runs in the case's child; returns its exit status (0 once a result is reported). */
static int run_case(const struct guest_case *c)
{
	char detail[900];
	libbpf_set_print(capture_print);

	if (strcmp(c->mode, "core-kernel-btf") == 0 && access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		report(c, "not-verifiable", 0, "kernel has no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF is off)");
		return 0;
	}
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	if (strcmp(c->mode, "core-external-btf") == 0)
		opts.btf_custom_path = c->btf;

	struct bpf_object *obj = bpf_object__open_file(c->object, &opts);
	if (!obj) {
		snprintf(detail, sizeof(detail), "libbpf cannot open the object: %s", strerror(errno));
		report(c, "failed", 0, detail);
		return 0;
	}
	int err = bpf_object__load(obj);
	if (err) {
		snprintf(detail, sizeof(detail), "load failed: %s", strerror(-err));
		report(c, "failed", 0, detail);
		return 0;
	}
	struct bpf_program *prog;
	int programs = 0;
	bpf_object__for_each_program(prog, obj) {
		struct bpf_link *link = bpf_program__attach(prog);
		if (!link) {
			snprintf(detail, sizeof(detail), "attaching %s failed: %s", bpf_program__name(prog), strerror(errno));
			report(c, "failed", 0, detail);
			return 0;
		}
		programs++;
	}
	struct bpf_map *map = bpf_object__find_map_by_name(obj, c->counter_map);
	if (!map) {
		snprintf(detail, sizeof(detail), "the object has no map named %s", c->counter_map);
		report(c, "failed", 0, detail);
		return 0;
	}
	if (strcmp(c->trigger, "execve") != 0) {
		snprintf(detail, sizeof(detail), "unknown trigger %s", c->trigger);
		report(c, "failed", 0, detail);
		return 0;
	}
	err = trigger_execve(c->count);
	if (err) {
		snprintf(detail, sizeof(detail), "triggering execve failed: %s", strerror(-err));
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
		snprintf(detail, sizeof(detail), "counter %s is %llu after %ld execve (expected >= %ld)", c->counter_map, events, c->count, c->count);
		report(c, "failed", events, detail);
		return 0;
	}
	snprintf(detail, sizeof(detail), "%d program(s) attached; %s = %llu after %ld execve", programs, c->counter_map, events, c->count);
	report(c, "ok", events, detail);
	return 0;
}

static void run_in_child(const struct guest_case *c, int case_timeout)
{
	pid_t pid = fork();
	if (pid < 0) {
		report(c, "failed", 0, "fork failed in the guest");
		return;
	}
	if (pid == 0) {
		alarm(case_timeout);
		_exit(run_case(c));
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	char detail[200];
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		snprintf(detail, sizeof(detail), "the case did not finish within %d s in the guest", case_timeout);
	else if (WIFSIGNALED(status))
		snprintf(detail, sizeof(detail), "the guest loader crashed: %s", strsignal(WTERMSIG(status)));
	else
		snprintf(detail, sizeof(detail), "the guest loader exited with %d before reporting", WEXITSTATUS(status));
	log_len = 0;
	report(c, "failed", 0, detail);
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

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--trigger") == 0)
		return 0;
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
	while (fgets(line, sizeof(line), manifest)) {
		struct guest_case c;
		memset(&c, 0, sizeof(c));
		if (strncmp(line, "hang", 4) == 0) {
			emit("KBUILD-NOTE hanging as the manifest asks");
			drain_console();
			for (;;)
				pause();
		}
		if (sscanf(line, "case-timeout %d", &case_timeout) == 1)
			continue;
		if (sscanf(line, "case %d %31s %255s %255s %255s %31s %ld", &c.index, c.mode, c.object, c.btf, c.counter_map,
			   c.trigger, &c.count) == 7) {
			log_len = 0;
			log_truncated = 0;
			/* Drained, so a case that takes the kernel down is still known to have started. */
			emit("KBUILD-START %d", c.index);
			drain_console();
			run_in_child(&c, case_timeout);
			cases++;
		}
	}
	fclose(manifest);
	emit("KBUILD-DONE %d", cases);
	finish();
	return 0;
}
