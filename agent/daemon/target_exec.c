/* SPDX-License-Identifier: GPL-2.0-only */
/* Following a target's exec: the event at once, then the old program's
 * lost-work probes removed and the new program's reader and probes made
 * on the thread pool (placing or removing uprobes takes the kernel
 * hundreds of ms, which the loop, sampling the new program's stalls,
 * cannot spare) and installed on the loop; a second exec meanwhile, or
 * the target's stop, discards them, on the pool too. */
#include <math.h>
#include "clock.h"
#include "errors.h"
#include "intern.h"
#include "log.h"
#include "stall_output.h"
#include "target.h"

/* On the pool: the old program's probes go, the new program's reader and
 * lost-work probes come (uprobes take the kernel hundreds of ms either way). */
static void exec_open(uv_work_t *w)
{
	struct target *t = w->data;
	struct exec_follow *x = &t->exec;

	lost_tracer_free(x->old_lost);
	x->old_lost = NULL;
	x->why[0] = 0;
	x->err = py_proc_open(t->pid, &x->proc, x->why, sizeof(x->why));
	if (!x->err)
		x->err = lost_tracer_new(x->proc, on_lost, t, &x->lost, x->why, sizeof(x->why));
}

/* On the pool: what an exec follow made that is no longer wanted. */
static void exec_discard(uv_work_t *w)
{
	struct target *t = w->data;

	lost_tracer_free(t->exec.old_lost);
	lost_tracer_free(t->exec.lost);
	py_proc_free(t->exec.proc);
	t->exec.lost = NULL;
	t->exec.old_lost = NULL;
	t->exec.proc = NULL;
}

static void exec_opened(uv_work_t *w, int status);

static void exec_queue(struct target *t, uv_work_cb fn)
{
	t->exec.busy = true;
	t->exec.work.data = t;
	if (uv_queue_work(t->agent->loop, &t->exec.work, fn, exec_opened)) {
		fn(&t->exec.work);
		exec_opened(&t->exec.work, 0);
	}
}

static void exec_install(struct target *t)
{
	struct exec_follow *x = &t->exec;
	int err = x->err;

	if (x->proc) {
		py_proc_free(t->proc);
		t->proc = x->proc;
	}
	flush_sites(t, INFINITY);   /* what the old program held: its sites are not the new one's */
	lost_sites_free(t->lost_sites);
	t->lost_sites = lost_sites_new();
	t->lost = x->lost;
	x->proc = NULL;
	x->lost = NULL;
	if (!err && t->lost)
		err = watch_lost(t);
	if (err)
		log_warn("PID %d: after its exec, no lost-work probes: %s", t->pid,
			 x->why[0] ? x->why : ls_strerror(err));
	uv_timer_start(&t->lost_drv.timer, driver_timer, 0, 0);
}

static void exec_opened(uv_work_t *w, int status)
{
	struct target *t = w->data;
	struct exec_follow *x = &t->exec;
	bool discarding = x->discarding;

	x->busy = x->discarding = false;
	if (discarding && !t->stopping && x->again) {
		x->again = false;
		exec_queue(t, exec_open);
	} else if (!discarding && (t->stopping || x->again)) {
		/* stopped, or exec'd again meanwhile: these probes are of no use */
		x->discarding = true;
		exec_queue(t, exec_discard);
	} else if (!discarding) {
		exec_install(t);
	}
	target_maybe_free(t);
}

/* The target exec'd and the stall monitor has read the new program: the
 * event goes out, the lost-work probes are placed on the new interpreter
 * (on the pool) and the pool's reader opens it at its next job. */
int target_follow_exec(struct target *t, const struct stall_exec *e)
{
	agent_publish(t->agent, stall_exec_json(t->pid, e, clock_unix_s()), true);
	__atomic_store_n(&t->execs, e->execs, __ATOMIC_RELEASE);
	target_read_owner(t);  /* a set-user-ID program may run now */
	intern_free(t->event_files);  /* the old program's: source no longer serves them */
	t->event_files = intern_new();
	lost_report_clear(&t->report);
	if (t->exec.busy) {
		close_lost(t);  /* the pool holds the follow: a second exec in a row, rare */
		t->exec.again = true;
		return 0;
	}
	t->exec.old_lost = unwatch_lost(t);
	exec_queue(t, exec_open);
	return 0;
}

