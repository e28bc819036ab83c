/* SPDX-License-Identifier: GPL-2.0-only */
/* What loopscope's BPF programs need from the kernel, probed before they
 * are loaded, so that an old or cut-down kernel gets one line naming what
 * is missing instead of a verifier log (as libbpf-tools' probe_ringbuf). */
#ifndef LOOPSCOPE_BPF_FEATURES_H
#define LOOPSCOPE_BPF_FEATURES_H

#include <stddef.h>

/* The oldest kernel with everything below (bpf_get_attach_cookie and
 * bpf_task_pt_regs came last, in 5.15). */
#define BPF_FEATURES_MIN_KERNEL "5.15"

/* 0, or a negative errno with a sentence in why: no kernel BTF, no ring
 * buffer, a missing helper, or -EPERM when BPF is not allowed at all. */
int bpf_features_check(char *why, size_t len);

#endif
