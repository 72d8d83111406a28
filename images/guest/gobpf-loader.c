// SPDX-License-Identifier: Apache-2.0
/*
 * Objects laid out for gobpf's ELF loader (iovisor/gobpf/elf), which no libbpf
 * opens: one "maps/<name>" section per map, whose definition is five u32
 * (type, key size, value size, max entries, flags) followed by gobpf's pinning
 * and namespace; programs in "kprobe/<function>", "kretprobe/<function>",
 * "uprobe/...", "tracepoint/<category>/<name>" sections; a "version" section,
 * 0xFFFFFFFE meaning the running kernel's. opensnitch 1.6 ships its programs so.
 *
 * Loaded the way gobpf loads them: each map created from its definition (the
 * policy's `maps` sizes first), the map relocations of each program section
 * patched with the map's fd (gobpf relocates nothing else), each program loaded
 * with the kernel version, then kprobes and tracepoints attached through perf
 * events. A uprobe's binary is the project's choice at run time: loaded, not
 * attached. Pinning is left out (a verifying load keeps nothing).
 *
 * Part of kbuild-guest.c (included there: the guest is one translation unit),
 * for the loader built against libbpf 1.x only.
 */
#include <gelf.h>
#include <libelf.h>

#define GOBPF_MAX 256
#define GOBPF_VERSION_CURRENT 0xFFFFFFFEu

struct gobpf_map {
	char name[MAX_FIELD];
	size_t shndx;
	__u32 def[5]; /* type, key_size, value_size, max_entries, map_flags */
	int fd;
};

struct gobpf_prog {
	char name[MAX_FIELD];
	char section[MAX_FIELD];
	size_t shndx;
	struct bpf_insn *insns;
	size_t count;
	int fd;
};

struct gobpf_object {
	Elf *elf;
	size_t shstrndx;
	Elf_Data *symbols;
	size_t strtab;
	char license[128];
	__u32 version;
	struct gobpf_map maps[GOBPF_MAX];
	struct gobpf_prog progs[GOBPF_MAX];
	int n_maps, n_progs;
};

static int gobpf_prefix(const char *section, const char *prefix)
{
	return strncmp(section, prefix, strlen(prefix)) == 0;
}

/* gobpf's section prefixes; -1 for a section gobpf does not load. */
static int gobpf_prog_type(const char *section)
{
	if (gobpf_prefix(section, "kprobe/") || gobpf_prefix(section, "kretprobe/") || gobpf_prefix(section, "uprobe/") ||
	    gobpf_prefix(section, "uretprobe/"))
		return BPF_PROG_TYPE_KPROBE;
	if (gobpf_prefix(section, "tracepoint/"))
		return BPF_PROG_TYPE_TRACEPOINT;
	if (gobpf_prefix(section, "socket"))
		return BPF_PROG_TYPE_SOCKET_FILTER;
	if (gobpf_prefix(section, "cgroup/skb"))
		return BPF_PROG_TYPE_CGROUP_SKB;
	if (gobpf_prefix(section, "cgroup/sock"))
		return BPF_PROG_TYPE_CGROUP_SOCK;
	if (gobpf_prefix(section, "xdp"))
		return BPF_PROG_TYPE_XDP;
	return -1;
}

/* The function symbol at the start of a program section: the program's name, as libbpf would call it. */
static void gobpf_prog_name(struct gobpf_object *o, struct gobpf_prog *p)
{
	snprintf(p->name, sizeof(p->name), "%s", p->section);
	if (!o->symbols)
		return;
	GElf_Sym sym;
	for (int i = 0; gelf_getsym(o->symbols, i, &sym); i++) {
		if (GELF_ST_TYPE(sym.st_info) == STT_FUNC && sym.st_shndx == p->shndx && sym.st_value == 0) {
			const char *name = elf_strptr(o->elf, o->strtab, sym.st_name);
			if (name && *name)
				snprintf(p->name, sizeof(p->name), "%s", name);
			return;
		}
	}
}

/* Maps, programs, license and version; on error, why in `why`. */
static int gobpf_read(struct gobpf_object *o, char *why, size_t size)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(o->elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *name = elf_strptr(o->elf, o->shstrndx, sh.sh_name);
		Elf_Data *data = elf_getdata(scn, NULL);
		if (!name || !data)
			continue;
		if (sh.sh_type == SHT_SYMTAB) {
			o->symbols = data;
			o->strtab = sh.sh_link;
		} else if (strcmp(name, "license") == 0) {
			snprintf(o->license, sizeof(o->license), "%.*s", (int)data->d_size, (const char *)data->d_buf);
		} else if (strcmp(name, "version") == 0 && data->d_size == sizeof(__u32)) {
			memcpy(&o->version, data->d_buf, sizeof(__u32));
		} else if (gobpf_prefix(name, "maps/")) {
			if (o->n_maps >= GOBPF_MAX || data->d_size < sizeof(o->maps[0].def)) {
				snprintf(why, size, "map section %s: %s", name, o->n_maps >= GOBPF_MAX ? "too many maps" : "shorter than a map definition");
				return -1;
			}
			struct gobpf_map *m = &o->maps[o->n_maps++];
			snprintf(m->name, sizeof(m->name), "%s", name + strlen("maps/"));
			m->shndx = elf_ndxscn(scn);
			memcpy(m->def, data->d_buf, sizeof(m->def));
			m->fd = -1;
		} else if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_EXECINSTR) && data->d_size > 0) {
			if (o->n_progs >= GOBPF_MAX) {
				snprintf(why, size, "more than %d program sections", GOBPF_MAX);
				return -1;
			}
			struct gobpf_prog *p = &o->progs[o->n_progs++];
			snprintf(p->section, sizeof(p->section), "%s", name);
			p->shndx = elf_ndxscn(scn);
			p->count = data->d_size / sizeof(struct bpf_insn);
			p->insns = malloc(data->d_size);
			p->fd = -1;
			if (!p->insns) {
				snprintf(why, size, "out of memory");
				return -1;
			}
			memcpy(p->insns, data->d_buf, data->d_size);
		}
	}
	for (int i = 0; i < o->n_progs; i++)
		gobpf_prog_name(o, &o->progs[i]);
	return 0;
}

static int gobpf_create_maps(const struct guest_case *c, struct gobpf_object *o, char *why, size_t size)
{
	for (int i = 0; i < o->n_maps; i++) {
		struct gobpf_map *m = &o->maps[i];
		__u32 max_entries = m->def[3];
		for (int j = 0; j < c->n_maps; j++)
			if (strcmp(c->maps[j].name, m->name) == 0 && strcmp(c->maps[j].max_entries, "-") != 0)
				max_entries = (__u32)entry_count(c->maps[j].max_entries);
		LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = m->def[4]);
		m->fd = bpf_map_create(m->def[0], NULL, m->def[1], m->def[2], max_entries, &opts);
		if (m->fd < 0) {
			snprintf(why, size, "creating map %s (type %u, key %u, value %u, %u entries) failed: %s", m->name, m->def[0], m->def[1], m->def[2],
				 max_entries, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Every relocation of a program section must point at a map: gobpf relocates nothing else. */
static int gobpf_relocate(struct gobpf_object *o, char *why, size_t size)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(o->elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *data;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_REL || !(data = elf_getdata(scn, NULL)))
			continue;
		struct gobpf_prog *p = NULL;
		for (int i = 0; i < o->n_progs && !p; i++)
			if (o->progs[i].shndx == sh.sh_info)
				p = &o->progs[i];
		if (!p)
			continue;
		GElf_Rel rel;
		for (int r = 0; gelf_getrel(data, r, &rel); r++) {
			GElf_Sym sym;
			size_t insn = rel.r_offset / sizeof(struct bpf_insn);
			if (!o->symbols || !gelf_getsym(o->symbols, (int)GELF_R_SYM(rel.r_info), &sym) || insn >= p->count) {
				snprintf(why, size, "%s: a relocation names no symbol or instruction", p->section);
				return -1;
			}
			const struct gobpf_map *m = NULL;
			for (int i = 0; i < o->n_maps && !m; i++)
				if (o->maps[i].shndx == sym.st_shndx)
					m = &o->maps[i];
			if (!m || p->insns[insn].code != (BPF_LD | BPF_IMM | BPF_DW)) {
				snprintf(why, size, "%s: relocation at instruction %zu is not a map load (gobpf's loader relocates maps only)", p->section, insn);
				return -1;
			}
			p->insns[insn].src_reg = BPF_PSEUDO_MAP_FD;
			p->insns[insn].imm = m->fd;
		}
	}
	return 0;
}

/* 0xFFFFFFFE in the object: the running kernel's LINUX_VERSION_CODE, as gobpf substitutes it. */
static __u32 gobpf_kernel_version(__u32 version)
{
	if (version != GOBPF_VERSION_CURRENT)
		return version;
	struct utsname u;
	unsigned a = 0, b = 0, p = 0;
	if (uname(&u) != 0 || sscanf(u.release, "%u.%u.%u", &a, &b, &p) < 2)
		return 0;
	return (a << 16) + (b << 8) + (p > 255 ? 255 : p);
}

/* Loads one program; on a verifier rejection, its log goes where libbpf's would. */
static int gobpf_load(struct gobpf_object *o, struct gobpf_prog *p, int type)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .kern_version = gobpf_kernel_version(o->version));
	p->fd = bpf_prog_load(type, NULL, o->license, p->insns, p->count, &opts);
	if (p->fd >= 0)
		return 0;
	int err = -errno;
	size_t log_size = 4 * 1024 * 1024;
	char *log = malloc(log_size);
	if (log) {
		log[0] = '\0';
		LIBBPF_OPTS(bpf_prog_load_opts, logged, .kern_version = opts.kern_version, .log_buf = log, .log_size = (__u32)log_size, .log_level = 1);
		int fd = bpf_prog_load(type, NULL, o->license, p->insns, p->count, &logged);
		if (fd >= 0)
			close(fd);
		char head[400];
		int n = snprintf(head, sizeof(head), "libbpf: prog '%s': BPF program load failed: %s\nlibbpf: prog '%s': -- BEGIN PROG LOAD LOG --\n", p->name,
				 strerror(-err), p->name);
		log_append(head, (size_t)n);
		log_append(log, strlen(log));
		n = snprintf(head, sizeof(head), "-- END PROG LOAD LOG --\nlibbpf: prog '%s': failed to load: %d\n", p->name, err);
		log_append(head, (size_t)n);
		free(log);
	}
	return err;
}

static int gobpf_perf_attach(int prog_fd, struct perf_event_attr *attr)
{
	attr->size = sizeof(*attr);
	int pfd = (int)syscall(__NR_perf_event_open, attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return -errno;
	/* The perf event stays open, and attached, until the case's child exits. */
	if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd) != 0 || ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
		int err = -errno;
		close(pfd);
		return err;
	}
	return 0;
}

static int gobpf_read_number(const char *path, const char *format, long *out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	int ok = fscanf(f, format, out) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

/* A kprobe through the kprobe PMU (4.17+), as gobpf's perf-event path does. */
static int gobpf_attach_kprobe(int prog_fd, const char *function, int retprobe)
{
	long type, bit = 0;
	if (gobpf_read_number("/sys/bus/event_source/devices/kprobe/type", "%ld", &type) != 0)
		return -EOPNOTSUPP;
	if (retprobe && gobpf_read_number("/sys/bus/event_source/devices/kprobe/format/retprobe", "config:%ld", &bit) != 0)
		return -EOPNOTSUPP;
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.type = (__u32)type;
	attr.config = retprobe ? 1ULL << bit : 0;
	attr.config1 = (__u64)(unsigned long)function;
	return gobpf_perf_attach(prog_fd, &attr);
}

static int gobpf_attach_tracepoint(int prog_fd, const char *category_name)
{
	char path[MAX_FIELD + 64];
	long id;
	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/id", category_name);
	int err = gobpf_read_number(path, "%ld", &id);
	if (err)
		return err;
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = (__u64)id;
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	return gobpf_perf_attach(prog_fd, &attr);
}

/* Attaches one loaded program; reports it; counts it in `t`. */
static void gobpf_attach(const struct guest_case *c, const struct gobpf_prog *p, struct tally *t)
{
	char detail[600];
	const char *target = NULL;
	for (int i = 0; i < c->n_targets && !target; i++)
		if (fnmatch(c->targets[i].glob, p->name, 0) == 0)
			target = c->targets[i].target;
	int kprobe = gobpf_prefix(p->section, "kprobe/"), kretprobe = gobpf_prefix(p->section, "kretprobe/");
	int tracepoint = gobpf_prefix(p->section, "tracepoint/");
	if (!kprobe && !kretprobe && !tracepoint) {
		snprintf(detail, sizeof(detail), "loaded, not attached: %s", gobpf_prefix(p->section, "uprobe/") || gobpf_prefix(p->section, "uretprobe/")
				 ? "a uprobe's binary is the project's loader's choice at run time"
				 : "the guest attaches gobpf-layout kprobes and tracepoints only");
		report_program(c, "loaded", p->name, detail);
		t->loaded++;
		return;
	}
	const char *where = target ? target : strchr(p->section, '/') + 1;
	int err = tracepoint ? gobpf_attach_tracepoint(p->fd, where) : gobpf_attach_kprobe(p->fd, where, kretprobe);
	if (err == 0) {
		snprintf(detail, sizeof(detail), "attached to %s (SEC(\"%s\"), gobpf's ELF layout%s)", where, p->section, target ? "; attach.targets in the probe's policy" : "");
		report_program(c, "attached", p->name, detail);
		t->attached++;
	} else if (matches(c->optional, c->n_optional, p->name)) {
		snprintf(detail, sizeof(detail), "loaded; attaching SEC(\"%s\") to %s failed (%s), allowed by attach.optional", p->section, where, strerror(-err));
		report_program(c, "loaded", p->name, detail);
		t->loaded++;
	} else {
		snprintf(detail, sizeof(detail), "attaching SEC(\"%s\") to %s failed: %s", p->section, where, strerror(-err));
		report_program(c, "failed", p->name, detail);
		if (t->failed++ == 0)
			snprintf(t->first_failure, sizeof(t->first_failure), "attaching %s failed: %s", p->name, strerror(-err));
	}
}

/* Loads every program the policy leaves in, then attaches those it does not hold back; a failed load fails the case. */
static int gobpf_run_programs(const struct guest_case *c, struct gobpf_object *o, struct tally *t, char *why, size_t size)
{
	for (int i = 0; i < o->n_progs; i++) {
		struct gobpf_prog *p = &o->progs[i];
		int type = gobpf_prog_type(p->section);
		if (matches(c->noautoload, c->n_noautoload, p->name)) {
			report_program(c, "skipped", p->name, "not loaded: autoload.disable in the probe's policy");
			t->skipped++;
			continue;
		}
		if (type < 0) {
			snprintf(why, size, "SEC(\"%s\") names no program type gobpf's loader knows", p->section);
			report_program(c, "failed", p->name, why);
			return -1;
		}
		int err = gobpf_load(o, p, type);
		if (err) {
			snprintf(why, size, "load failed: %s", strerror(-err));
			report_program(c, "failed", p->name, "the verifier rejected it");
			return -1;
		}
	}
	for (int i = 0; i < o->n_progs; i++) {
		const struct gobpf_prog *p = &o->progs[i];
		if (p->fd < 0)
			continue;
		if (matches(c->skip, c->n_skip, p->name)) {
			report_program(c, "loaded", p->name, "loaded, not attached: attach.skip in the probe's policy");
			t->loaded++;
		} else if (c->n_only > 0 && !matches(c->only, c->n_only, p->name)) {
			report_program(c, "loaded", p->name, "loaded, not attached: not in attach.only of the probe's policy");
			t->loaded++;
		} else {
			gobpf_attach(c, p, t);
		}
	}
	return 0;
}

/* Runs in the case's child, like run_case; returns its exit status (0 once a result is reported). */
static int run_gobpf_case(const struct guest_case *c)
{
	char detail[900];
	if (strcmp(c->mode, "core-external-btf") == 0) {
		report(c, "not-verifiable", 0, "gobpf's ELF loader takes no external BTF");
		return 0;
	}
	if (strcmp(c->trigger, "none") != 0 || c->n_nocreate > 0 || c->n_types > 0 || c->n_loadoptional > 0) {
		report(c, "not-verifiable", 0, "the guest's gobpf-layout loader runs no event check and applies no autoload.maps, autoload.optional or programTypes");
		return 0;
	}
	static struct gobpf_object o;
	memset(&o, 0, sizeof(o));
	int file = open(c->object, O_RDONLY | O_CLOEXEC);
	if (elf_version(EV_CURRENT) == EV_NONE || file < 0 || !(o.elf = elf_begin(file, ELF_C_READ, NULL)) || elf_getshdrstrndx(o.elf, &o.shstrndx) != 0) {
		report(c, "failed", 0, "cannot read the object as ELF");
		return 0;
	}
	if (gobpf_read(&o, detail, sizeof(detail)) != 0 || gobpf_create_maps(c, &o, detail, sizeof(detail)) != 0 || gobpf_relocate(&o, detail, sizeof(detail)) != 0) {
		report(c, "failed", 0, detail);
		return 0;
	}
	struct tally t;
	memset(&t, 0, sizeof(t));
	if (gobpf_run_programs(c, &o, &t, detail, sizeof(detail)) != 0) {
		report(c, "failed", 0, detail);
		return 0;
	}
	if (t.failed > 0) {
		snprintf(detail, sizeof(detail), "%d program(s) failed to attach (%s); %d attached, %d loaded only", t.failed, t.first_failure, t.attached, t.loaded);
		report(c, "failed", 0, detail);
		return 0;
	}
	snprintf(detail, sizeof(detail), "loaded and attached: %d attached, %d loaded only, %d skipped", t.attached, t.loaded, t.skipped);
	report(c, "ok", 0, detail);
	return 0;
}
