#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "poll_breakpoints.h"
#include "stall_tracer.h"
#include "stall.skel.h"

struct stall_tracer {
	struct stall_bpf *skel;
	struct bpf_link *syscalls;  /* ls_sys_enter, when polls are found that way */
	struct poll_bps *bps;       /* the breakpoints on the poll functions */
	char note[256];             /* why syscalls are traced instead */
	struct ring_buffer *rb;
	stall_event_fn cb;
	void *ctx;
};

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int libbpf_verbose(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct stall_tracer *t = ctx;
	struct stall_event e;

	if (size < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e)); /* ring buffer data may be unaligned */
	t->cb(&e, t->ctx);
	return 0;
}

/* Poll entries: hardware breakpoints, or (--precise, or where they cannot
 * be set) the syscall entry tracepoint. */
static int watch_polls(struct stall_tracer *t, const struct stall_tracer_opts *opts)
{
	int err = 0;

	if (!opts->precise)
		err = poll_bps_attach(opts->pid, t->skel->progs.ls_poll_entry, &t->bps, t->note,
				      sizeof(t->note));
	if (opts->precise || err) {
		t->syscalls = bpf_program__attach(t->skel->progs.ls_sys_enter);
		if (!t->syscalls)
			return -errno;
		if (err)
			snprintf(t->note + strlen(t->note), sizeof(t->note) - strlen(t->note),
				 ": tracing every syscall instead, which costs every process");
	}
	return 0;
}

int stall_tracer_new(const struct stall_tracer_opts *opts, stall_event_fn cb,
		     void *ctx, struct stall_tracer **out)
{
	struct stall_tracer *t;
	int err;

	libbpf_set_print(opts->verbose ? libbpf_verbose : libbpf_quiet);
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cb = cb;
	t->ctx = ctx;
	t->skel = stall_bpf__open();
	if (!t->skel) {
		err = -errno;
		goto cleanup;
	}
	t->skel->rodata->targ_tgid = (__u32)opts->pid;
	t->skel->rodata->threshold_ns = opts->threshold_ns;
	bpf_program__set_autoattach(t->skel->progs.ls_sys_enter, false);
	err = stall_bpf__load(t->skel);
	if (err)
		goto cleanup;
	err = stall_bpf__attach(t->skel);
	if (!err)
		err = watch_polls(t, opts);
	if (err)
		goto cleanup;
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_sample, t, NULL);
	if (!t->rb) {
		err = -errno;
		goto cleanup;
	}
	*out = t;
	return 0;
cleanup:
	stall_tracer_free(t);
	return err < 0 ? err : -err;
}

int stall_tracer_poll(struct stall_tracer *t, int timeout_ms)
{
	int n = ring_buffer__poll(t->rb, timeout_ms);

	if (n == -EINTR)
		return 0;
	return n < 0 ? n : 0;
}

int stall_tracer_fd(struct stall_tracer *t)
{
	return ring_buffer__epoll_fd(t->rb);
}

const volatile struct ls_loop *stall_tracer_loops(struct stall_tracer *t)
{
	return t->skel->bss->loops;
}

int stall_tracer_seed_loop(struct stall_tracer *t, pid_t tid, int epfd)
{
	struct ls_loop *loops = t->skel->bss->loops;
	struct timespec ts;
	__u32 key = (__u32)tid;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock bpf_ktime_get_ns reads */
	for (__u32 i = 0; i < LS_PROBES; i++) {
		__u32 idx = (key + i) & (LS_MAX_LOOPS - 1);
		struct ls_loop *l = &loops[idx];

		if (l->tid == key)
			return 0; /* the kernel side saw it first */
		if (!__sync_bool_compare_and_swap(&l->tid, 0, key))
			continue;
		l->epfd = epfd;
		l->index = idx;
		l->state = LS_IDLE; /* blocked in its poll */
		l->sys_nr = -1;
		l->busy_since = 0;
		l->last_on = 0;
		l->last_end = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
		l->nsc = 0;
		l->foreign_count = 0;
		return 0;
	}
	return -ENOSPC;
}

void stall_tracer_totals(struct stall_tracer *t, struct ls_totals *out)
{
	memcpy(out, (const void *)&t->skel->bss->totals, sizeof(*out));
}

const char *stall_tracer_note(const struct stall_tracer *t)
{
	return t->note[0] ? t->note : NULL;
}

bool stall_tracer_syscalls_on(const struct stall_tracer *t)
{
	return t->syscalls != NULL;
}

void stall_tracer_free(struct stall_tracer *t)
{
	if (!t)
		return;
	bpf_link__destroy(t->syscalls);
	poll_bps_free(t->bps);
	ring_buffer__free(t->rb);
	stall_bpf__destroy(t->skel);
	free(t);
}
