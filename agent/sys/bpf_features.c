/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf_features.h"

struct helper_need {
	enum bpf_func_id id;
	const char *name;
};

/* Helpers of uprobe and tracepoint programs that came late to the kernel. */
static const struct helper_need helpers[] = {
	{ BPF_FUNC_ringbuf_reserve, "bpf_ringbuf_reserve" },
	{ BPF_FUNC_get_current_task_btf, "bpf_get_current_task_btf" },
	{ BPF_FUNC_get_attach_cookie, "bpf_get_attach_cookie" },
	{ BPF_FUNC_task_pt_regs, "bpf_task_pt_regs" },
};

static int missing(char *why, size_t len, int err, const char *what)
{
	if (err == -EPERM || err == -EACCES) {
		snprintf(why, len, "not allowed to load BPF programs (loopscope needs root, or "
			 "CAP_BPF and CAP_PERFMON)");
		return -EPERM;
	}
	snprintf(why, len, "this kernel lacks %s (loopscope needs Linux %s or later with "
		 "BTF and BPF ring buffers)", what, BPF_FEATURES_MIN_KERNEL);
	return -ENOTSUP;
}

/* The probes below answer "unsupported" when BPF is not allowed at all:
 * ask first with a map any kernel with BPF can create. */
static int bpf_allowed(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ls_probe", 4, 4, 1, NULL);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int bpf_features_check(char *why, size_t len)
{
	int ok = bpf_allowed();

	if (ok)
		return missing(why, len, ok, "BPF (the bpf() system call failed)");
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return missing(why, len, -ENOENT, "BTF type information (/sys/kernel/btf/vmlinux)");
	ok = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	if (ok <= 0)
		return missing(why, len, ok, "BPF ring buffers");
	for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++) {
		ok = libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, helpers[i].id, NULL);
		if (ok <= 0)
			return missing(why, len, ok, helpers[i].name);
	}
	return 0;
}
