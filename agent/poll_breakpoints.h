/* Hardware execute breakpoints on the target's libc poll functions
 * (epoll_wait, epoll_pwait, epoll_pwait2), one perf event per thread and
 * function, inherited by threads created later; each runs a BPF program.
 * Only threads that poll pay: ~0.4 us per poll, nothing for anyone else. */
#ifndef LOOPSCOPE_POLL_BREAKPOINTS_H
#define LOOPSCOPE_POLL_BREAKPOINTS_H

#include <stddef.h>
#include <sys/types.h>

struct bpf_program;
struct poll_bps;

/* 0, or -errno with why (one line) when no breakpoint could be set. */
int poll_bps_attach(pid_t pid, struct bpf_program *prog, struct poll_bps **out, char *why,
		    size_t whylen);
void poll_bps_free(struct poll_bps *b);

#endif
