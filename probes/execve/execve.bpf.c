// SPDX-License-Identifier: GPL-2.0
/*
 * execve tracer: one event per execve() with pid/tid, uid/gid, comm, the
 * filename argument and the caller's working directory, in the spirit of
 * tracee's syscall__execve. One source serves both builds:
 *   -DCORE  vmlinux.h + CO-RE relocations, one object per arch;
 *   default kernel headers of one kernel + kbuild_config.h (generated per
 *           kernel: KBUILD_LINUX_VERSION_CODE, MAX_PATH_COMPONENTS, tweaks).
 */
#ifdef CORE
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#else
#include "kbuild_config.h"
#include <linux/version.h>
#include <linux/sched.h>
#include <linux/fs_struct.h>
#include <linux/dcache.h>
#include <linux/path.h>
#include <linux/mount.h>
#include <uapi/linux/bpf.h>
#include <bpf/bpf_helpers.h>
#endif
#include "probe.h"

#ifndef MAX_PATH_COMPONENTS
#define MAX_PATH_COMPONENTS 80
#endif

#ifdef CORE
#define KBUILD_VERSION_CODE 0
#define KREAD(src, field) BPF_CORE_READ(src, field)
#define read_kernel bpf_probe_read_kernel
#define read_user_str bpf_probe_read_user_str
/* A typedef would hide the struct's name from CO-RE, which matches types by name. */
#define kmount_t struct mount
#define real_mount(vfsmnt) ((kmount_t *)((void *)(vfsmnt) - bpf_core_field_offset(struct mount, mnt)))
#else
#ifndef KBUILD_LINUX_VERSION_CODE
#error "kbuild_config.h must define KBUILD_LINUX_VERSION_CODE"
#endif
#define KBUILD_VERSION_CODE KBUILD_LINUX_VERSION_CODE
#if KBUILD_LINUX_VERSION_CODE < KERNEL_VERSION(5, 5, 0)
/* The _kernel/_user split of probe_read arrived in 5.5; older kernels only know these. */
#define read_kernel bpf_probe_read
#define read_user_str bpf_probe_read_str
#else
#define read_kernel bpf_probe_read_kernel
#define read_user_str bpf_probe_read_user_str
#endif
/* No memset: the helpers zero the destination when the read faults. */
#define KREAD(src, field)                                                   \
	({                                                                  \
		typeof((src)->field) __v;                                   \
		read_kernel(&__v, sizeof(__v), &(src)->field);              \
		__v;                                                        \
	})
/*
 * struct mount lives in fs/mount.h, which header packages do not ship; its
 * head (all this probe touches) has been unchanged since 3.3.
 */
struct kbuild_mount {
	struct hlist_node mnt_hash;
	struct kbuild_mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
};
#define kmount_t struct kbuild_mount
#define real_mount(vfsmnt) container_of(vfsmnt, kmount_t, mnt)
#endif

/* The tracepoint's record as tracefs describes it (format file); an ABI. */
struct execve_enter_ctx {
	__u64 common;
	__s32 syscall_nr;
	__u32 pad;
	__u64 filename;
	__u64 argv;
	__u64 envp;
};

/* Events are ~4.6 KB: too big for the 512-byte stack, so they are built here. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct execve_event);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

/* Bumped before anything can fail: proof that the program ran. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} execve_count SEC(".maps");

const struct kbuild_probe_info kbuild_probe_info SEC(".kbuild.info") = {
	.max_path_components = MAX_PATH_COMPONENTS,
	.linux_version_code = KBUILD_VERSION_CODE,
};

/*
 * Writes "/a/b/c" right-aligned so that it ends at ev->cwd[CWD_LEN], walking
 * from the cwd's dentry to the root and crossing mounts through mnt_parent /
 * mnt_mountpoint. The loop is unrolled so kernels without bounded-loop
 * support (< 5.3) accept it too; offsets are masked so the verifier can
 * prove every access stays inside the buffer.
 */
static __always_inline void read_cwd(struct task_struct *task, struct execve_event *ev)
{
	struct fs_struct *fs = KREAD(task, fs);
	struct dentry *dentry = KREAD(fs, pwd.dentry);
	struct vfsmount *vfsmnt = KREAD(fs, pwd.mnt);
	kmount_t *mnt = real_mount(vfsmnt);
	kmount_t *mnt_parent = KREAD(mnt, mnt_parent);
	struct dentry *mnt_root = KREAD(vfsmnt, mnt_root);
	__u32 flags = EXECVE_CWD_TRUNCATED;

	/*
	 * The write position lives in the map value, not in a register: a value
	 * loaded from a map is "unknown" to the verifier on every path, so the
	 * states after each unrolled step compare equal and are pruned instead
	 * of multiplying with every combination of name lengths (verifier work
	 * on 6.18 fell from ~665K to ~9K instructions).
	 */
	volatile __u32 *pos = &ev->cwd_offset;
	*pos = CWD_LEN;

#pragma unroll
	for (int i = 0; i < MAX_PATH_COMPONENTS; i++) {
		struct dentry *parent = KREAD(dentry, d_parent);

		if (dentry == mnt_root || dentry == parent) {
			if (dentry != mnt_root) {
				flags = EXECVE_CWD_UNREACHABLE;
				break;
			}
			if (mnt == mnt_parent) {
				flags = 0;
				break;
			}
			dentry = KREAD(mnt, mnt_mountpoint);
			mnt = mnt_parent;
			mnt_parent = KREAD(mnt, mnt_parent);
			vfsmnt = &mnt->mnt;
			mnt_root = KREAD(vfsmnt, mnt_root);
			continue;
		}

		struct qstr d_name = KREAD(dentry, d_name);
		__u32 len = d_name.len, at = *pos;
		if (len == 0 || len > NAME_LEN - 1 || len + 1 > at)
			break;
		at -= len + 1;
		*pos = at;
		/*
		 * The checks above prove the masks below redundant to the optimiser,
		 * which would drop them; older verifiers cannot compare two unknown
		 * values and need them. barrier_var hides the values from clang.
		 */
		__u32 size = len - 1;
		barrier_var(at);
		barrier_var(size);
		ev->cwd[at & (CWD_LEN - 1)] = '/';
		/* size in [1, NAME_LEN]: old verifiers refuse a possibly zero size. */
		read_kernel(&ev->cwd[(at + 1) & (CWD_LEN - 1)], (size & (NAME_LEN - 1)) + 1, d_name.name);
		dentry = parent;
	}

	if (*pos == CWD_LEN) {
		*pos = CWD_LEN - 1;
		ev->cwd[CWD_LEN - 1] = '/';
	}
	ev->cwd[CWD_LEN] = '\0';
	ev->flags = flags;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int tracepoint__syscalls__sys_enter_execve(struct execve_enter_ctx *ctx)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&execve_count, &zero);
	if (count)
		__sync_fetch_and_add(count, 1);

	struct execve_event *ev = bpf_map_lookup_elem(&scratch, &zero);
	if (!ev)
		return 0;

	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	ev->pid = pid_tgid >> 32;
	ev->tid = (__u32)pid_tgid;
	ev->uid = (__u32)uid_gid;
	ev->gid = uid_gid >> 32;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	if (read_user_str(ev->filename, sizeof(ev->filename), (const char *)ctx->filename) < 0)
		ev->filename[0] = '\0';

	read_cwd((struct task_struct *)bpf_get_current_task(), ev);

	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, ev, sizeof(*ev));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
