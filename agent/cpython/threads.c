/* Thread states of a live interpreter, the kernel tid of each, and which
 * one holds the GIL. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "errors.h"
#include "pyproc.h"

#define MAX_INTERPRETERS 64
#define TSTATE_COPY 1024

static size_t tstate_copy_size(const struct cpy_layout *L)
{
	int end = L->ts_native_thread_id > L->ts_thread_id ? L->ts_native_thread_id : L->ts_thread_id;

	if (L->ts_frame > end)
		end = L->ts_frame;
	return (size_t)end + 8 <= TSTATE_COPY ? (size_t)end + 8 : TSTATE_COPY;
}

static pid_t tid_of(struct py_proc *p, const char *ts, size_t size)
{
	const struct cpy_layout *L = &p->L;
	uint64_t pthread_id = field_ptr(ts, size, L->ts_thread_id);
	int32_t tid = 0;

	if (L->ts_native_thread_id >= 0)
		return (pid_t)field_i64(ts, size, L->ts_native_thread_id);
	if (p->pthread_tid_off < 0 || !pthread_id)
		return 0;
	if (remote_read_i32(&p->mem, pthread_id + (uint64_t)p->pthread_tid_off, &tid))
		return 0;
	return (pid_t)tid;
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

int py_proc_threads(struct py_proc *p, struct py_thread *out, size_t max, size_t *count)
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
	if (err == -ESRCH)
		return err;
	/* a list cut by a thread that just exited still gives what was read */
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
