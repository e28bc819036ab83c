/* SPDX-License-Identifier: GPL-2.0-only */
/* The layout of _asyncio's C Future and Task objects, per minor version.
 * They live in Modules/_asynciomodule.c, not in any header: the tables in
 * aio_layout_3_X.c are generated from the DWARF of each version's _asyncio
 * (and of the interpreter and select, for the deque, the epoll object and
 * asend_gen) by tools/gen_aio_layout.py, which tools/gen-layouts.sh runs
 * for every version (`make layouts`: pyenv builds for 3.10-3.13, the
 * Debian testing root's python3.1X-dbg DWARF for 3.14 and 3.15), and
 * checked to regenerate byte for byte by tests/test_layout.py.
 * On 3.14+ the fields _asyncio publishes itself in its AsyncioDebug
 * section (task_size, task_name, task_coro, task_node, and the task-list
 * heads of struct cpy_layout) replace the table's, once checked against
 * the published sizes (debug_offsets.c); the table keeps what it does not
 * publish, so a new patch release needs no code.
 * A _bit value >= 0 means the field is that bit of a bitfield word. */
#ifndef LOOPSCOPE_AIO_LAYOUT_H
#define LOOPSCOPE_AIO_LAYOUT_H

struct cpy_aio_layout {
	int fut_loop, fut_callback0, fut_callbacks, fut_exception, fut_exception_tb,
	    fut_result, fut_source_tb, fut_state, fut_log_tb, fut_log_tb_bit, fut_dict, fut_size;
	int task_fut_waiter, task_coro, task_name, task_context, task_log_destroy_pending,
	    task_log_destroy_pending_bit, task_size;
	int task_node;           /* 3.14+: the Task's llist_node in its thread's list */
	/* 3.14+: _asyncio's module state: the WeakSet and set of the tasks of
	 * other classes, which are on no list */
	int state_non_asyncio_tasks, state_non_asyncio_eager_tasks;
	int deque_leftblock, deque_leftindex;  /* collections.deque's left end */
	int fut_pending, fut_cancelled, fut_finished;  /* fut_state values */
	int futureiter_future;   /* the future of a Future's __await__ iterator */
	int holder_loop;         /* 3.10-3.11: _RunningLoopHolder's loop; -1 after */
	int epoll_fd;            /* the fd of a select.epoll */
	int asend_gen;           /* the async generator an asend awaitable runs */
};

/* cpy_aio_layout_3_10 and the others: one per line of versions.def. */
#define PY_VERSION(maj, min) extern const struct cpy_aio_layout cpy_aio_layout_##maj##_##min;
#include "versions.def"

const struct cpy_aio_layout *cpy_aio_layout_lookup(int major, int minor);

#endif
