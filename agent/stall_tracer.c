#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "stall_tracer.h"
#include "stall.skel.h"

struct stall_tracer {
	struct stall_bpf *skel;
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
	err = stall_bpf__load(t->skel);
	if (err)
		goto cleanup;
	err = stall_bpf__attach(t->skel);
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
	__u32 key = (__u32)tid;

	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.loop_slot), &key, &(__u32){0}) == 0)
		return 0; /* the kernel side saw it first */
	for (__u32 i = 0; i < LS_MAX_LOOPS; i++) {
		if (!__sync_bool_compare_and_swap(&loops[i].tid, 0, key))
			continue;
		loops[i].epfd = epfd;
		loops[i].index = i;
		loops[i].sys_nr = -1;
		loops[i].busy_since = 0;
		loops[i].last_on = 0; /* blocked in its poll */
		loops[i].last_end = 0;
		loops[i].nsc = 0;
		loops[i].foreign_count = 0;
		if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.loop_slot), &key, &i, BPF_NOEXIST)) {
			loops[i].tid = 0;
			return 0;
		}
		return 0;
	}
	return -ENOSPC;
}

void stall_tracer_totals(struct stall_tracer *t, struct ls_totals *out)
{
	memcpy(out, (const void *)&t->skel->bss->totals, sizeof(*out));
}

void stall_tracer_free(struct stall_tracer *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	stall_bpf__destroy(t->skel);
	free(t);
}
