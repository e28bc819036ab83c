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

/* asyncio.tasks._current_tasks: what each running loop is executing now.
 * -LS_ENOLOOP when asyncio is not imported. */
int aio_current_tasks(struct py_proc *p, struct aio_running *out, size_t max, size_t *n);
/* Id, name and coroutine name of a Task. */
int aio_task_ref(struct py_proc *p, uint64_t task, struct py_task_ref *out);
/* Where a coroutine's frame lives (compare with py_frame.addr), 0 if none. */
uint64_t aio_coro_frame(struct py_proc *p, uint64_t coro);
/* "module.qualname"-style name of a coroutine object (or its type name). */
int aio_coro_name(struct py_proc *p, uint64_t coro, char *buf, size_t len);
/* The current task whose coroutine is on this stack; -LS_ENOTFOUND. */
int aio_task_on_stack(struct py_proc *p, const struct py_stack *s, struct py_task_ref *out);

#endif
