/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The event layout shared by the execve probe and whatever reads its perf
 * buffer. Only fixed-width types, so a reader on another arch decodes it the
 * same way.
 */
#ifndef KBUILD_EXECVE_PROBE_H
#define KBUILD_EXECVE_PROBE_H

#define COMM_LEN 16
#define FILENAME_LEN 256
/* A dentry name is at most NAME_MAX (255) bytes plus its NUL. */
#define NAME_LEN 256
/*
 * The cwd is assembled right to left ending at CWD_LEN. CWD_LEN is a power of
 * two so a component's start can be masked into [0, CWD_LEN) for the verifier;
 * the NAME_LEN tail keeps a full-length name read in bounds after the mask.
 */
#define CWD_LEN 4096
#define CWD_BUF_LEN (CWD_LEN + NAME_LEN)

/* flags */
#define EXECVE_CWD_TRUNCATED 1 /* the walk hit MAX_PATH_COMPONENTS or CWD_LEN */
#define EXECVE_CWD_UNREACHABLE 2 /* a dentry outside any mount (lazily unmounted) */

struct execve_event {
	__u32 pid; /* tgid: what user space calls the pid */
	__u32 tid;
	__u32 uid;
	__u32 gid;
	/* The cwd string starts at cwd[cwd_offset]; bytes before it are left over from earlier events. */
	__u32 cwd_offset;
	__u32 flags;
	char comm[COMM_LEN];
	char filename[FILENAME_LEN];
	char cwd[CWD_BUF_LEN];
};

/*
 * Which configuration produced an object, readable without loading it (a
 * section libbpf skips, so it costs nothing at load time and, unlike
 * .rodata, does not need kernel support for global data, which 4.x lacks).
 */
struct kbuild_probe_info {
	__u32 max_path_components;
	__u32 linux_version_code; /* 0 for CO-RE objects */
};

#endif
