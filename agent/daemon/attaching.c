/* SPDX-License-Identifier: GPL-2.0-only */
/* Attaching targets. The PIDs of the command line are attached before the
 * agent listens (a failure ends it); those found later (--children's new
 * workers) are attached one at a time on the thread pool, so the loop, and
 * every client and target on it, never waits for the ELF and DWARF reads
 * and the BPF load and attach of one. A target is listed (hello, targets)
 * once attached; one that exits meanwhile is dropped with a target_exit. */
#include <errno.h>
#include <stdlib.h>
#include "errors.h"
#include "log.h"
#include "output.h"
#include "agent_int.h"

struct attach {
	struct attach *next;
	struct agent *agent;
	struct target *t;
	int err;               /* target_open's */
};

static size_t attaching_count(const struct agent *a)
{
	size_t n = 0;

	for (const struct attach *q = a->attaching; q; q = q->next)
		n++;
	return n;
}

/* Listed from now on, and announced. */
static void add_target(struct agent *a, struct target *t)
{
	a->targets[a->ntargets++] = t;
	log_info("PID %d: watching", target_pid(t));
	agent_publish(a, json_pack("{s:s, s:i, s:o}", "event", "target_attached",
				   "pid", target_pid(t), "target", target_hello_json(t)), true);
}

int agent_attach_now(struct agent *a, pid_t pid)
{
	struct target *t;
	int err;

	if (a->ntargets + attaching_count(a) >= AGENT_MAX_TARGETS)
		return -ENOSPC;
	err = target_new(a, pid, &t);
	if (!err)
		err = target_open(t);
	if (!err)
		err = target_start(t);
	if (err) {
		if (t)
			target_stop(t);
		return err;
	}
	add_target(a, t);
	return 0;
}

static void open_on_pool(uv_work_t *w)
{
	struct attach *q = w->data;

	q->err = target_open(q->t);
}

static void start_next(struct agent *a);

/* A process gone before it could be watched: said once, as any exit. */
static void exited_meanwhile(struct agent *a, pid_t pid)
{
	log_info("PID %d: exited while it was being attached", pid);
	agent_publish_exit(a, pid, "exited while it was being attached");
}

static void finish(struct agent *a, struct attach *q)
{
	pid_t pid = target_pid(q->t);
	int err = q->err;

	if (!err)
		err = target_start(q->t);
	if (!err) {
		add_target(a, q->t);
		return;
	}
	target_stop(q->t);
	if (err == -ESRCH || target_exited(q->t)) {
		exited_meanwhile(a, pid);
		return;
	}
	log_warn("PID %d (a descendant of a --children master): cannot watch it: %s", pid,
		 ls_strerror(err));
	children_refuse(a->kids, pid);
}

static void opened(uv_work_t *w, int status)
{
	struct attach *q = w->data;
	struct agent *a = q->agent;

	a->attach_running = false;
	a->attaching = q->next;
	if (a->stopping)
		target_stop(q->t);
	else
		finish(a, q);
	free(q);
	start_next(a);
}

static void start_next(struct agent *a)
{
	struct attach *q = a->attaching;

	if (a->attach_running || !q)
		return;
	if (a->stopping) {
		a->attaching = q->next;
		target_stop(q->t);
		free(q);
		start_next(a);
		return;
	}
	a->attach_work.data = q;
	a->attach_running = true;
	if (uv_queue_work(a->loop, &a->attach_work, open_on_pool, opened)) {
		q->err = -ENOMEM;
		opened(&a->attach_work, 0);
	}
}

int agent_attach_later(struct agent *a, pid_t pid)
{
	struct attach *q, **end = &a->attaching;
	int err;

	if (a->ntargets + attaching_count(a) >= AGENT_MAX_TARGETS)
		return -ENOSPC;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->agent = a;
	err = target_new(a, pid, &q->t);
	if (err) {
		if (q->t)
			target_stop(q->t);
		free(q);
		return err;
	}
	while (*end)
		end = &(*end)->next;
	*end = q;
	start_next(a);
	return 0;
}

json_t *agent_attaching_json(const struct agent *a, const struct client *c)
{
	json_t *pids = json_array();

	for (const struct attach *q = a->attaching; q; q = q->next)
		if (agent_client_sees(c, q->t))
			json_array_append_new(pids, json_integer(target_pid(q->t)));
	return pids;
}

bool agent_attaching(const struct agent *a, pid_t pid)
{
	for (const struct attach *q = a->attaching; q; q = q->next)
		if (target_pid(q->t) == pid)
			return true;
	return false;
}

void agent_attach_stop(struct agent *a)
{
	start_next(a);  /* drops what waits; the one on the pool goes when done */
}
