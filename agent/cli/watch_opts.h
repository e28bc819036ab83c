/* SPDX-License-Identifier: GPL-2.0-only */
/* The options `stalls` and `watch` share, as an argp child parser. */
#ifndef LOOPSCOPE_WATCH_OPTS_H
#define LOOPSCOPE_WATCH_OPTS_H

#include <argp.h>
#include <stdbool.h>

struct watch_opts {
	double threshold_ms;  /* stalls longer than this are reported */
	double duration_s;    /* 0: until Ctrl-C or the target exits */
	bool json;
	bool verbose;         /* libbpf's own messages */
	bool precise;         /* trace every syscall entry, not on demand */
};

extern struct watch_opts watch_opts;
extern const struct argp watch_opts_argp;

#endif
