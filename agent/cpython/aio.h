/* SPDX-License-Identifier: GPL-2.0-only */
/* asyncio from outside: the tasks of live event loops, read from the
 * _asyncio module's state and the C Task objects. */
#ifndef LOOPSCOPE_AIO_H
#define LOOPSCOPE_AIO_H

#include "aio_layout.h"
#include "pyproc.h"

struct aio_running {
	uint64_t loop;
	uint64_t task;
};

/* 3.14+: _asyncio's published offsets read (once it is imported): 0, or
 * -LS_ENOLOOP while it is not, or -LS_EBADDATA when they are not
 * believable. A no-op before 3.14. */
int aio_offsets_ready(struct py_proc *p);
/* asyncio.tasks._current_tasks (3.14+: each thread state's running task):
 * what each running loop is executing now.
 * -LS_ENOLOOP when asyncio is not imported. */
int aio_current_tasks(struct py_proc *p, struct aio_running *out, size_t max, size_t *n);
/* Id, name and coroutine name of a Task. */
int aio_task_ref(struct py_proc *p, uint64_t task, struct py_task_ref *out);
/* Where a coroutine's frame lives (compare with py_frame.addr), 0 if none. */
uint64_t aio_coro_frame(struct py_proc *p, uint64_t coro);
/* "module.qualname"-style name of a coroutine object (or its type name). */
int aio_coro_name(struct py_proc *p, uint64_t coro, char *buf, size_t len);
/* The loop a thread (its thread state) is running, 0 when none. */
uint64_t aio_running_loop(struct py_proc *p, uint64_t tstate);
/* The same, telling "none" (0, *loop = 0) from "unreadable" (-errno). */
int aio_thread_loop(struct py_proc *p, uint64_t tstate, uint64_t *loop);
bool aio_is_uvloop(struct py_proc *p, uint64_t loop);
/* The current task whose coroutine is on this stack (of thread state
 * tstate), whatever its depth; -LS_ENOTFOUND. */
int aio_task_on_stack(struct py_proc *p, uint64_t tstate, const struct py_stack *s,
		      struct py_task_ref *out);

/* --- a loop's heartbeat and epoll fd (aio_loop.c) --- */

/* The ready queue (a collections.deque) of an asyncio loop;
 * -LS_EUNSUPPORTED for loops without one we can read (uvloop). */
int aio_loop_ready_queue(struct py_proc *p, uint64_t loop, uint64_t *queue);
/* A value that changes whenever the loop takes a callback from queue. */
int aio_ready_queue_beat(struct py_proc *p, uint64_t queue, uint64_t *beat);
/* The epoll fd of an asyncio loop's selector, -1 when unknown. */
int aio_loop_epoll_fd(struct py_proc *p, uint64_t loop);


/* --- every task of the live loops (ps, where, pstree) --- */

enum aio_state { AIO_PENDING, AIO_RUNNING, AIO_DONE, AIO_CANCELLED };

struct aio_task {
	uint64_t addr;            /* the Task object: the task id */
	uint64_t loop;
	uint64_t coro;
	uint64_t fut_waiter;      /* what the task's __step waits on, 0: nothing */
	uint64_t callback0, callbacks;
	const char *name;         /* interned (p->strings), like the two below */
	const char *coro_name;
	int state;                /* enum aio_state */
	pid_t loop_tid;
	struct py_stack stack;    /* the coroutine chain, innermost first */
	const char *awaiting;     /* what the innermost coroutine waits on, "" */
	uint64_t awaiting_task;   /* when that is a task */
	uint64_t *awaited_by;     /* the tasks that wait for this one */
	size_t n_awaited_by, cap_awaited_by;
	bool partial;             /* changed while read */
};

struct aio_loop {
	uint64_t addr;
	pid_t tid;
	bool uvloop;
	uint64_t running_task;    /* 0: between tasks */
	char type_name[64];
};

/* A task of a running loop that is done but still referenced (asyncio's
 * registry holds it until it is freed): how it ended, for the history of
 * tasks. ps never lists these. */
struct aio_done {
	uint64_t addr;
	int state;                /* AIO_DONE or AIO_CANCELLED */
	const char *name;         /* interned, like the two below */
	const char *coro_name;    /* NULL when its coroutine is gone */
	const char *raised;       /* the exception's type name, NULL: none */
};

struct aio_snapshot {
	struct aio_task *tasks;   /* sorted by address */
	size_t n;
	struct aio_done *done;    /* sorted by address */
	size_t ndone;
	struct aio_loop *loops;
	size_t nloops;
	int partial;              /* tasks that changed under the reader */
	uint64_t future_type, task_type;
};

/* A snapshot's names (tasks', coroutines', awaits', p->names) stay valid
 * through the next snapshot read and are freed by the one after unless it
 * saw them again: whoever compares two snapshots (task_diff, the task
 * lints) holds the last one's names only. */
#define AIO_NAMES_KEEP 2

/* Reads every pending task of every running loop. -LS_ENOLOOP when the
 * process runs no asyncio loop. Ages p->names (AIO_NAMES_KEEP). */
int aio_snapshot_read(struct py_proc *p, struct aio_snapshot *snap);
/* The task with that address, NULL when none. */
struct aio_task *aio_snapshot_find(const struct aio_snapshot *snap, uint64_t addr);
/* The done task with that address, NULL when none. */
const struct aio_done *aio_snapshot_find_done(const struct aio_snapshot *snap, uint64_t addr);
void aio_snapshot_free(struct aio_snapshot *snap);

/* 3.14+: every task of the process, from _asyncio's per-thread and
 * per-interpreter task lists and its non_asyncio_tasks; *torn counts lists
 * that changed under the reader (what was read before is kept). */
typedef int (*aio_task_fn)(struct py_proc *p, uint64_t task, void *ctx);
int aio_tasklist_walk(struct py_proc *p, aio_task_fn fn, void *ctx, int *torn);

/* Internals shared by the aio_*.c files. */
int aio_read_chain(struct py_proc *p, const struct aio_snapshot *snap, struct aio_task *t);
int aio_link_awaiters(struct py_proc *p, struct aio_snapshot *snap);
bool aio_is_future(struct py_proc *p, const struct aio_snapshot *snap, uint64_t obj);
bool aio_is_task(struct py_proc *p, const struct aio_snapshot *snap, uint64_t obj);
int aio_add_awaiter(struct aio_task *t, uint64_t awaiter);

#endif
