/* SPDX-License-Identifier: GPL-2.0-only */
/* What needs a target's memory, off the loop: task snapshots (once a
 * second), dump and where run on libuv's thread pool, one job at a time
 * per target, with the target's own reader (a second py_proc, so the loop
 * thread's lost-work decoding never shares its caches). Answers are made
 * there too (JSON built and serialized), so a 100k-task snapshot never
 * holds the socket. ps, pstree and where are built from the last snapshot
 * when asked, never each second: at 100,000 tasks the two documents kept
 * ready weighed 64 MB and building them took the most of a snapshot's
 * time and memory. */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "clock.h"
#include "errors.h"
#include "intern.h"
#include "log.h"
#include "output.h"
#include "proc.h"
#include "snapshot_text.h"
#include "source.h"
#include "target.h"
#include "task_output.h"
#include "task_tree.h"
#include "thread_output.h"
#include "thread_view.h"

static void job_free(struct job *j)
{
	if (!j)
		return;
	json_decref(j->id);
	json_decref(j->ended);
	json_decref(j->lints_raised);
	json_decref(j->lints_active);
	free(j->body);
	free(j);
}

static void fail(struct job *j, const char *code, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail(struct job *j, const char *code, int err, const char *fmt, ...)
{
	va_list ap;

	j->err_code = code;
	j->err = err;
	va_start(ap, fmt);
	vsnprintf(j->err_msg, sizeof(j->err_msg), fmt, ap);
	va_end(ap);
}

static char *dumps(json_t *doc, size_t *len)
{
	char *s = doc ? json_dumps(doc, PROTO_JSON_FLAGS) : NULL;

	json_decref(doc);
	*len = s ? strlen(s) : 0;
	return s;
}

static const char *read_error(pid_t pid, int err, char *msg, size_t len)
{
	if (err == -LS_ENOLOOP) {
		snprintf(msg, len, "no asyncio event loop running in PID %d", pid);
		return "no_loop";
	}
	if (err == -ESRCH || !proc_alive(pid)) {
		snprintf(msg, len, "PID %d exited while it was read", pid);
		return "target_gone";
	}
	snprintf(msg, len, "cannot read PID %d: %s", pid, ls_strerror(err));
	return "read_failed";
}

static void count_states(const struct aio_snapshot *snap, struct snap_stats *s)
{
	s->tasks = snap->n;
	s->loops = snap->nloops;
	for (size_t i = 0; i < snap->n; i++)
		if (snap->tasks[i].state >= 0 && snap->tasks[i].state <= AIO_CANCELLED)
			s->by_state[snap->tasks[i].state]++;
	for (size_t i = 0; i < snap->nloops; i++)
		s->uvloop |= snap->loops[i].uvloop;
}

/* This thread's CPU time (ms): what a snapshot costs, whatever else the
 * machine runs meanwhile. */
static double thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void run_snapshot(struct target *t, struct job *j)
{
	struct reader *r = &t->reader;
	double t0 = clock_mono_s(), now = (double)clock_mono_to_unix_ns() / 1e9 + t0;
	double cpu0 = thread_cpu_ms();
	pid_t *tids = NULL;
	int err;

	if (r->have_snap)
		aio_snapshot_free(&r->snap);
	r->have_snap = false;
	if (!proc_threads(t->pid, &tids, &j->stats.threads))
		free(tids);
	err = aio_snapshot_read(r->p, &r->snap);
	if (err) {
		j->err_code = read_error(t->pid, err, j->err_msg, sizeof(j->err_msg));
		j->err = err;
		return;
	}
	r->have_snap = true;
	count_states(&r->snap, &j->stats);
	if (j->record)
		j->body = ps_text(r->p, &r->snap, &j->body_len);
	j->ended = json_array();
	if (j->ended)
		task_diff_update(r->diff, &r->snap, now, j->interval_s, j->ended);
	j->lints_raised = json_array();
	j->lints_active = json_array();
	if (j->lints_raised && j->lints_active &&
	    lint_tasks_update(r->lints, &r->snap, now, j->lints_raised, j->lints_active))
		log_warn("PID %d: out of memory: the task lints missed a snapshot", t->pid);
	j->stats.ended = task_diff_ended(r->diff);
	j->stats.missed = task_diff_missed(r->diff);
	j->stats.names = intern_count(r->p->names);
	j->stats.ms = (clock_mono_s() - t0) * 1e3;
	j->stats.cpu_ms = thread_cpu_ms() - cpu0;
}

static void run_dump(struct target *t, struct job *j)
{
	struct thread_view *v = NULL;
	size_t n = 0;
	int err = thread_views_read(t->reader.p, PY_MAX_DEPTH, &v, &n);

	if (err) {
		j->err_code = read_error(t->pid, err, j->err_msg, sizeof(j->err_msg));
		return;
	}
	j->body = dumps(dump_json(t->reader.p, v, n), &j->body_len);
	thread_views_free(v, n);
}

static bool have_snapshot(struct target *t, struct job *j)
{
	if (!t->reader.have_snap)
		fail(j, "no_snapshot", 0, "no task snapshot of PID %d to look in", t->pid);
	return t->reader.have_snap;
}

static void run_ps(struct target *t, struct job *j)
{
	if (have_snapshot(t, j))
		j->body = ps_text(t->reader.p, &t->reader.snap, &j->body_len);
}

static void run_pstree(struct target *t, struct job *j)
{
	if (have_snapshot(t, j))
		j->body = pstree_text(t->reader.p, &t->reader.snap, &j->body_len);
}

static void run_where(struct target *t, struct job *j)
{
	const struct aio_task *task;
	size_t matches;

	if (!have_snapshot(t, j))
		return;
	task = task_find(&t->reader.snap, j->spec, &matches);
	if (!task && !matches)
		fail(j, "not_found", 0, "no task '%s' in PID %d's last snapshot", j->spec, t->pid);
	else if (!task)
		fail(j, "ambiguous", 0, "%zu tasks are named '%s': ask by id", matches, j->spec);
	else
		j->body = dumps(where_json(t->reader.p, &t->reader.snap, task), &j->body_len);
}

/* Only the files the target loaded code from (the code objects the reader
 * read: every frame the agent showed of it); others, .py files the agent
 * could read as root included, are not served. */
static void run_source(struct target *t, struct job *j)
{
	char err[300];

	if (!intern_has(t->reader.p->code_files, j->spec)) {
		fail(j, "not_found", 0, "PID %d has shown no code of %s: only its own files are served",
		     t->pid, j->spec);
		return;
	}
	j->body = dumps(source_lines(t->pid, j->spec, j->line, j->context, j->as_peer ? &j->as : NULL,
				     err, sizeof(err)), &j->body_len);
	if (!j->body)
		fail(j, "not_found", 0, "%s", err);
}

/* The target exec'd: the reader opens the new program; its snapshot and
 * task history were of the old one. */
static void reader_follow_exec(struct target *t)
{
	struct reader *r = &t->reader;
	uint64_t execs = __atomic_load_n(&t->execs, __ATOMIC_ACQUIRE);
	char why[256];

	if (execs == r->execs)
		return;
	if (r->have_snap)
		aio_snapshot_free(&r->snap);
	r->have_snap = false;
	task_diff_free(r->diff);  /* it holds the old reader's strings */
	r->diff = NULL;
	py_proc_free(r->p);
	r->p = NULL;
	if (py_proc_open(t->pid, &r->p, why, sizeof(why)))
		return; /* tried again at the next job */
	r->diff = task_diff_new(t->pid);
	r->execs = execs;
}

#define TRIM_TASKS_MIN 1000

static void work(uv_work_t *w)
{
	struct target *t = w->data;
	struct job *j = t->running;

	reader_follow_exec(t);
	if (!t->reader.p || !t->reader.diff) {
		fail(j, "not_python", 0, "PID %d exec'd into a program loopscope cannot read", t->pid);
		return;
	}
	switch (j->kind) {
	case JOB_SNAPSHOT:
		run_snapshot(t, j);
		break;
	case JOB_DUMP:
		run_dump(t, j);
		break;
	case JOB_WHERE:
		run_where(t, j);
		break;
	case JOB_PS:
		run_ps(t, j);
		break;
	case JOB_PSTREE:
		run_pstree(t, j);
		break;
	case JOB_SOURCE:
		run_source(t, j);
		break;
	}
	if (!j->err_code && !j->body && j->kind != JOB_SNAPSHOT)
		fail(j, "internal", -ENOMEM, "out of memory");
	/* what a big snapshot freed goes back to the system now, not when the
	 * heap's top happens to be free */
	if (t->reader.have_snap && t->reader.snap.n >= TRIM_TASKS_MIN)
		malloc_trim(0);
}

static void publish_ended(struct target *t, json_t *ended)
{
	size_t i;
	json_t *ev;

	json_array_foreach(ended, i, ev)
		agent_publish(t->agent, json_incref(ev), true);
}

/* A snapshot's cost grows with the task count (half a second of a CPU at
 * 100,000 tasks): the next ones come SNAPSHOT_COST_RATIO times its CPU
 * time apart, 1 s at least, so that snapshots take at most 2% of a CPU
 * whatever the count. In tenths of a second, so the interval stays put
 * while the cost wobbles a little. */
#define SNAPSHOT_COST_RATIO 50
#define SNAPSHOT_INTERVAL_MAX_MS 60000

static uint64_t snapshot_interval_ms(double cpu_ms)
{
	double ms = cpu_ms * SNAPSHOT_COST_RATIO;

	if (ms <= SNAPSHOT_INTERVAL_MS)
		return SNAPSHOT_INTERVAL_MS;
	if (ms >= SNAPSHOT_INTERVAL_MAX_MS)
		return SNAPSHOT_INTERVAL_MAX_MS;
	return ((uint64_t)ms + 99) / 100 * 100;
}

/* The loop thread takes a snapshot's results over. */
static void snapshot_done(struct target *t, struct job *j)
{
	t->snapshots++;
	t->stats = j->stats;
	if (!j->err_code)
		target_snapshot_every(t, snapshot_interval_ms(j->stats.cpu_ms));
	if (j->body)
		agent_record_snapshot(t->agent, t->pid, j->body, j->body_len);
	snprintf(t->snap_err_code, sizeof(t->snap_err_code), "%s", j->err_code ? j->err_code : "");
	snprintf(t->snap_err, sizeof(t->snap_err), "%s", j->err_msg);
	if (j->ended)
		publish_ended(t, j->ended);
	if (j->lints_active) {
		json_decref(t->task_lints);
		t->task_lints = j->lints_active;
		j->lints_active = NULL;
	}
	for (size_t i = 0; j->lints_raised && i < json_array_size(j->lints_raised); i++)
		target_publish_lint(t, json_incref(json_array_get(j->lints_raised, i)));
}

static void answer(struct target *t, struct job *j)
{
	struct client *c = server_client(t->agent->srv, j->client);

	if (!c)
		return;  /* it left before its answer was ready */
	if (j->err_code)
		client_error(c, j->id, j->err_code, j->err_msg);
	else
		client_result(c, j->id, j->body, j->body_len);
}

static void start_next(struct target *t);

static void work_done(uv_work_t *w, int status)
{
	struct target *t = w->data;
	struct job *j = t->running;

	t->running = NULL;
	if (!t->stopping) {
		if (j->kind == JOB_SNAPSHOT)
			snapshot_done(t, j);
		else
			answer(t, j);
	}
	job_free(j);
	/* the snapshot's task_done events were made on the pool and are
	 * freed here, once history and subscribers have their text */
	if (t->reader.have_snap && t->reader.snap.n >= TRIM_TASKS_MIN)
		malloc_trim(0);
	if (t->stopping)
		target_maybe_free(t);
	else
		start_next(t);
}

static void start_next(struct target *t)
{
	if (t->running || !t->queue || t->stopping)
		return;
	t->running = t->queue;
	t->queue = t->queue->next;
	t->work.data = t;
	if (uv_queue_work(t->agent->loop, &t->work, work, work_done)) {
		job_free(t->running);
		t->running = NULL;
	}
}

static void enqueue(struct target *t, struct job *j)
{
	struct job **p = &t->queue;

	while (*p)
		p = &(*p)->next;
	*p = j;
	start_next(t);
}

static bool snapshot_queued(const struct target *t)
{
	if (t->running && t->running->kind == JOB_SNAPSHOT)
		return true;
	for (struct job *j = t->queue; j; j = j->next)
		if (j->kind == JOB_SNAPSHOT)
			return true;
	return false;
}

void target_queue_snapshot(struct target *t)
{
	struct job *j;

	if (t->stopping || snapshot_queued(t) || !t->reader.p || !(j = calloc(1, sizeof(*j))))
		return;
	j->kind = JOB_SNAPSHOT;
	j->record = agent_recording(t->agent);
	j->interval_s = t->snap_interval_ms / 1e3;
	enqueue(t, j);
}

#define MAX_QUEUED_JOBS 64

/* A request's job, not queued yet; NULL after answering why not. */
static struct job *request_job(struct target *t, enum job_kind kind, struct client *c,
			       const json_t *id, const char *spec)
{
	struct job *j;
	size_t n = 0;

	for (j = t->queue; j; j = j->next)
		n++;
	if (n >= MAX_QUEUED_JOBS) {
		client_error(c, id, "busy", "too many requests for this target are waiting: try again");
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		client_error(c, id, "internal", "out of memory");
		return NULL;
	}
	j->kind = kind;
	j->client = client_id(c);
	j->id = id ? json_deep_copy(id) : NULL;
	snprintf(j->spec, sizeof(j->spec), "%s", spec ? spec : "");
	return j;
}

void target_queue_job(struct target *t, enum job_kind kind, struct client *c, const json_t *id,
		      const char *spec)
{
	struct job *j = request_job(t, kind, c, id, spec);

	if (j)
		enqueue(t, j);
}

void target_queue_source(struct target *t, struct client *c, const json_t *id, const char *file,
			 long long line, long long context, const struct access_peer *as)
{
	struct job *j = request_job(t, JOB_SOURCE, c, id, file);

	if (!j)
		return;
	j->line = line;
	j->context = context;
	j->as_peer = as != NULL;
	if (as)
		j->as = *as;
	enqueue(t, j);
}

void target_answer_snapshot(struct target *t, struct client *c, const json_t *id, bool tree)
{
	if (t->snap_err_code[0]) {
		client_error(c, id, t->snap_err_code, t->snap_err);
		return;
	}
	target_queue_job(t, tree ? JOB_PSTREE : JOB_PS, c, id, NULL);
}

/* Only once no job runs (target_maybe_free checks). */
void target_jobs_free(struct target *t)
{
	while (t->queue) {
		struct job *j = t->queue;

		t->queue = j->next;
		job_free(j);
	}
	if (t->reader.have_snap)
		aio_snapshot_free(&t->reader.snap);
	task_diff_free(t->reader.diff);
	lint_tasks_free(t->reader.lints);
	lint_guard_free(t->reader.guard);
	py_proc_free(t->reader.p);
}
