/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "clock.h"
#include "proc.h"
#include "stall_tracer.h"
#include "stall.skel.h"

struct stall_tracer {
	struct stall_bpf *skel;
	pid_t pid;
	struct bpf_link *syscalls;  /* ls_sys_enter, while every syscall is traced */
	bool syscalls_always;       /* ... for good, not only during a window */
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
	t->skel->rodata->targ_tgid = opts->pid;
	t->pid = opts->pid;
	t->skel->rodata->threshold_ns = opts->threshold_ns;
	bpf_program__set_autoattach(t->skel->progs.ls_sys_enter, false);
	err = stall_bpf__load(t->skel);
	if (err)
		goto cleanup;
	err = stall_bpf__attach(t->skel);
	if (!err && opts->precise)
		err = stall_tracer_trace_syscalls(t);
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

int stall_tracer_consume(struct stall_tracer *t)
{
	int n = ring_buffer__consume(t->rb);

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

int stall_tracer_seed_loop(struct stall_tracer *t, pid_t tid, int epfd, bool running)
{
	struct ls_loop *loops = t->skel->bss->loops;
	__u32 key = (__u32)tid;
	uint64_t runtime = 0;
	__u8 one = 1;

	proc_thread_runtime(t->pid, tid, &runtime);
	uint64_t now = clock_mono_ns(); /* the clock bpf_ktime_get_ns reads */
	for (__u32 i = 0; i < LS_PROBES; i++)
		if (loops[(key + i) & (LS_MAX_LOOPS - 1)].tid == key)
			return 0; /* known already: never two slots for one thread */
	for (__u32 i = 0; i < LS_PROBES; i++) {
		__u32 idx = (key + i) & (LS_MAX_LOOPS - 1);
		struct ls_loop *l = &loops[idx];

		if (!__sync_bool_compare_and_swap(&l->tid, 0, key))
			continue;
		__sync_fetch_and_add(&l->seq, 1); /* odd: being written (bpf/stall.bpf.c) */
		l->epfd = epfd;
		l->index = idx;
		l->state = running ? LS_BUSY : LS_IDLE;
		l->busy_since = running ? now : 0;
		l->last_on = running ? now : 0; /* a running loop is (most likely) on CPU */
		l->run_at_on = l->run_at_out = l->run_base = runtime;
		l->out_at = running ? 0 : now;
		l->last_end = now;
		l->nsc = 0;
		l->foreign_count = 0;
		__sync_fetch_and_add(&l->seq, 1);
		return 0;
	}
	/* one set with the kernel side's claims, so a thread counts once */
	bpf_map__update_elem(t->skel->maps.untracked, &key, sizeof(key), &one, sizeof(one),
			     BPF_NOEXIST);
	return -ENOSPC;
}

uint64_t stall_tracer_untracked(struct stall_tracer *t)
{
	__u32 key, next;
	uint64_t n = 0;

	for (int err = bpf_map__get_next_key(t->skel->maps.untracked, NULL, &next, sizeof(next));
	     !err; err = bpf_map__get_next_key(t->skel->maps.untracked, &key, &next, sizeof(next))) {
		key = next;
		n++;
	}
	return n;
}

void stall_tracer_totals(struct stall_tracer *t, struct ls_totals *out)
{
	memcpy(out, (const void *)&t->skel->bss->totals, sizeof(*out));
}

static int attach_syscalls(struct stall_tracer *t)
{
	if (t->syscalls)
		return 0;
	t->syscalls = bpf_program__attach(t->skel->progs.ls_sys_enter);
	return t->syscalls ? 0 : -errno;
}

int stall_tracer_trace_syscalls(struct stall_tracer *t)
{
	t->syscalls_always = true;
	return attach_syscalls(t);
}

void stall_tracer_syscall_window(struct stall_tracer *t, bool open)
{
	if (t->syscalls_always || open == (t->syscalls != NULL))
		return;
	if (open) {
		attach_syscalls(t); /* on failure: blocked syscalls only, as before */
		return;
	}
	bpf_link__destroy(t->syscalls);
	t->syscalls = NULL;
}

void stall_tracer_restart(struct stall_tracer *t, int slot, uint64_t at)
{
	if (slot >= 0 && slot < LS_MAX_LOOPS)
		((volatile struct ls_loop *)&t->skel->bss->loops[slot])->restart_at = at;
}

void stall_tracer_hint_epfd(struct stall_tracer *t, int slot, int epfd)
{
	if (slot >= 0 && slot < LS_MAX_LOOPS && epfd >= 0)
		((volatile struct ls_loop *)&t->skel->bss->loops[slot])->epfd_hint = epfd + 1;
}

uint64_t stall_tracer_execs(const struct stall_tracer *t)
{
	return *(const volatile __u64 *)&t->skel->bss->execs;
}

bool stall_tracer_syscalls_on(const struct stall_tracer *t)
{
	return t->syscalls_always;
}

void stall_tracer_free(struct stall_tracer *t)
{
	if (!t)
		return;
	bpf_link__destroy(t->syscalls);
	ring_buffer__free(t->rb);
	stall_bpf__destroy(t->skel);
	free(t);
}
