/* SPDX-License-Identifier: GPL-2.0-only */
/* Thread states of a live interpreter, the kernel tid of each, and which
 * one holds the GIL. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "errors.h"
#include "pyproc.h"

#define MAX_INTERPRETERS 64
#define TSTATE_COPY 1024
/* A walk that meets a thread state freed under it (threads starting and
 * ending all the time) is done again, this many times at most. */
#define WALK_TRIES 8

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

static size_t tstate_copy_size(const struct cpy_layout *L)
{
	int end = max_int(max_int(L->ts_native_thread_id, L->ts_thread_id),
			  max_int(max_int(L->ts_frame, L->ts_next), L->ts_interp));

	return (size_t)end + 8 <= TSTATE_COPY ? (size_t)end + 8 : TSTATE_COPY;
}

/* A target in its own PID namespace knows its threads by that namespace's
 * ids; ours are what the kernel, BPF and /proc report. A thread not in the
 * table (started since) reads the table again, at most every 50 ms. */
static pid_t host_tid(struct py_proc *p, pid_t ns_tid)
{
	pid_t host;
	double now;

	if (!p->pid_ns || ns_tid <= 0)
		return ns_tid;
	host = ns_tids_host(&p->ns_tids, ns_tid);
	now = clock_mono_s();
	if (host || now - p->ns_tids_read_at < 0.05)
		return host;
	ns_tids_free(&p->ns_tids);
	ns_tids_read(p->pid, &p->ns_tids);
	p->ns_tids_read_at = now;
	return ns_tids_host(&p->ns_tids, ns_tid);
}

static pid_t tid_of(struct py_proc *p, const char *ts, size_t size)
{
	const struct cpy_layout *L = &p->L;
	uint64_t pthread_id = field_ptr(ts, size, L->ts_thread_id);
	int32_t tid = 0;

	if (L->ts_native_thread_id >= 0)
		return host_tid(p, (pid_t)field_i64(ts, size, L->ts_native_thread_id));
	if (p->pthread_tid_off < 0 || !pthread_id)
		return 0;
	if (remote_read_i32(&p->mem, pthread_id + (uint64_t)p->pthread_tid_off, &tid))
		return 0;
	return host_tid(p, (pid_t)tid);
}

static int walk_interp(struct py_proc *p, uint64_t interp, struct py_thread *out, size_t max,
		       size_t *count, size_t *walked)
{
	const struct cpy_layout *L = &p->L;
	size_t size = tstate_copy_size(L);
	char ts[TSTATE_COPY];
	uint64_t tstate;
	int err;

	err = remote_read_ptr(&p->mem, interp + (uint64_t)L->is_threads_head, &tstate);
	while (!err && tstate && *walked < PY_MAX_THREADS) {
		(*walked)++;
		err = remote_read(&p->mem, tstate, ts, size);
		if (err)
			break;
		/* a freed (reused) thread state no longer belongs to interp:
		 * the rest of the list cannot be trusted */
		if (field_ptr(ts, size, L->ts_interp) != interp) {
			err = -LS_ECHANGED;
			break;
		}
		if (*count < max) {
			out[*count] = (struct py_thread){
				.tstate = tstate,
				.interp = interp,
				.pthread_id = field_ptr(ts, size, L->ts_thread_id),
				.tid = tid_of(p, ts, size),
			};
			(*count)++;
		}
		tstate = field_ptr(ts, size, L->ts_next);
	}
	return err;
}

static int walk_all(struct py_proc *p, struct py_thread *out, size_t max, size_t *count)
{
	uint64_t interp;
	size_t walked = 0;
	int err;

	*count = 0;
	err = remote_read_ptr(&p->mem, p->runtime + (uint64_t)p->L.rt_interpreters_head, &interp);
	for (int i = 0; !err && interp && i < MAX_INTERPRETERS; i++) {
		err = walk_interp(p, interp, out, max, count, &walked);
		if (!err)
			err = remote_read_ptr(&p->mem, interp + (uint64_t)p->L.is_next, &interp);
	}
	return err;
}

struct tid_at {
	pid_t tid;
	size_t at;
};

static int by_tid_then_position(const void *a, const void *b)
{
	const struct tid_at *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* A thread being started has a thread state before it has a thread: 3.12+
 * gives it no tid yet, 3.10-3.11 give it its creator's ids until it runs.
 * Either way it is not a thread of its own (and would make its creator's
 * tid map to an empty stack): keep, for each tid, the oldest thread state,
 * which is the one furthest down the list (new ones are pushed in front). */
static void drop_unstarted(struct py_proc *p, struct py_thread *v, size_t *n)
{
	bool tids_known = p->L.ts_native_thread_id >= 0 || p->pthread_tid_off >= 0;
	struct tid_at *order = malloc(*n * sizeof(*order));
	size_t kept = 0;

	if (!order || !tids_known) {
		free(order);
		return;
	}
	for (size_t i = 0; i < *n; i++)
		order[i] = (struct tid_at){ v[i].tid, i };
	qsort(order, *n, sizeof(*order), by_tid_then_position);
	for (size_t i = 0; i < *n; i++) {
		bool newer_twin = i + 1 < *n && order[i + 1].tid == order[i].tid;

		if (!order[i].tid || newer_twin)
			v[order[i].at].tid = -1; /* marked: not a thread yet */
	}
	free(order);
	for (size_t i = 0; i < *n; i++)
		if (v[i].tid != -1)
			v[kept++] = v[i];
	*n = kept;
}

int py_proc_threads(struct py_proc *p, struct py_thread *out, size_t max, size_t *count)
{
	struct remote_cache *cache = NULL;
	int err = 0;

	/* a torn walk is read again from the live memory (a snapshot's
	 * cached pages would tear it the same way) */
	for (int tries = 0; tries < WALK_TRIES; tries++) {
		if (tries == 1)
			cache = remote_pause_cache(&p->mem);
		err = walk_all(p, out, max, count);
		if (!err || err == -ESRCH)
			break;
	}
	if (cache)
		remote_resume_cache(&p->mem, cache);
	if (err == -ESRCH)
		return err;
	drop_unstarted(p, out, count);
	/* torn every time: what the last walk read is still worth having */
	return *count ? 0 : err;
}

int py_proc_thread_list(struct py_proc *p, struct py_thread **out, size_t *count)
{
	/* walk again into a larger array while the walk fills it */
	for (size_t cap = 256;; cap *= 2) {
		struct py_thread *v = malloc(cap * sizeof(*v));
		int err = v ? py_proc_threads(p, v, cap, count) : -ENOMEM;

		if (err || *count < cap || cap >= PY_MAX_THREADS) {
			if (err)
				free(v);
			*out = err ? NULL : v;
			return err;
		}
		free(v);
	}
}

int py_proc_gil_holder(struct py_proc *p, uint64_t interp, uint64_t *tstate)
{
	const struct cpy_layout *L = &p->L;
	uint64_t gil, holder;
	int32_t locked;
	int err;

	*tstate = 0;
	if (L->rt_gil_locked >= 0) {
		err = remote_read_i32(&p->mem, p->runtime + (uint64_t)L->rt_gil_locked, &locked);
		if (!err)
			err = remote_read_ptr(&p->mem, p->runtime + (uint64_t)L->rt_gil_holder, &holder);
	} else {
		err = remote_read_ptr(&p->mem, interp + (uint64_t)L->is_gil, &gil);
		if (!err)
			err = remote_read_i32(&p->mem, gil + (uint64_t)L->gil_locked, &locked);
		if (!err)
			err = remote_read_ptr(&p->mem, gil + (uint64_t)L->gil_holder, &holder);
	}
	if (err)
		return err;
	if (locked)
		*tstate = holder;
	return 0;
}

/* Where interp's GIL struct lives: in _PyRuntime up to 3.11, behind the
 * interpreter's pointer from 3.12. */
static int gil_struct(struct py_proc *p, uint64_t interp, uint64_t *gil)
{
	const struct cpy_layout *L = &p->L;

	if (L->rt_gil >= 0) {
		*gil = p->runtime + (uint64_t)L->rt_gil;
		return 0;
	}
	return remote_read_ptr(&p->mem, interp + (uint64_t)L->is_gil, gil);
}

int py_proc_gil_waits_on(struct py_proc *p, uint64_t interp, uint64_t futex, bool *is_gil)
{
	const struct cpy_layout *L = &p->L;
	uint64_t gil;
	int err;

	*is_gil = false;
	if (L->gil_cond < 0 || L->gil_size <= L->gil_cond)
		return -LS_EUNSUPPORTED;
	err = gil_struct(p, interp, &gil);
	if (err)
		return err;
	*is_gil = gil && futex >= gil + (uint64_t)L->gil_cond && futex < gil + (uint64_t)L->gil_size;
	return 0;
}
