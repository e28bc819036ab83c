/* SPDX-License-Identifier: GPL-2.0-only */
/* What an asyncio loop object tells the stall detector: its ready queue,
 * whose left end moves with every callback the loop runs (a heartbeat),
 * and the epoll fd its selector waits on. */
#include <string.h>
#include "aio.h"
#include "containers.h"
#include "errors.h"

int aio_loop_ready_queue(struct py_proc *p, uint64_t loop, uint64_t *queue)
{
	char type[64];

	if (aio_is_uvloop(p, loop))
		return -LS_EUNSUPPORTED; /* its ready queue is a private Cython field */
	if (py_getattr_str(p, loop, "_ready", queue) ||
	    py_type_name(p, *queue, type, sizeof(type)) || strcmp(type, "collections.deque"))
		return -LS_EUNSUPPORTED;
	return 0;
}

int aio_ready_queue_beat(struct py_proc *p, uint64_t queue, uint64_t *beat)
{
	const struct cpy_aio_layout *A = &p->A;
	uint64_t block = 0;
	int64_t index = 0;
	int err;

	/* the left end moves at every popleft: every callback the loop runs */
	err = remote_read_ptr(&p->mem, queue + (uint64_t)A->deque_leftblock, &block);
	if (!err)
		err = remote_read_i64(&p->mem, queue + (uint64_t)A->deque_leftindex, &index);
	*beat = block ^ ((uint64_t)index << 48) ^ (uint64_t)index;
	return err;
}

/* loop._selector (selectors.EpollSelector)._selector (select.epoll). */
int aio_loop_epoll_fd(struct py_proc *p, uint64_t loop)
{
	const struct cpy_aio_layout *A = &p->A;
	uint64_t selector, ep;
	char type[32];
	int32_t fd;

	if (py_getattr_str(p, loop, "_selector", &selector) ||
	    py_getattr_str(p, selector, "_selector", &ep) ||
	    py_type_name(p, ep, type, sizeof(type)) || strcmp(type, "select.epoll") ||
	    remote_read_i32(&p->mem, ep + (uint64_t)A->epoll_fd, &fd))
		return -1;
	return fd;
}
