/* SPDX-License-Identifier: GPL-2.0-only */
/* A target's detectors on the agent's loop: the stall monitor and the
 * lost-work tracer on poll handles and timers (the same non-blocking
 * interface `stalls` and `watch` drive with poll(2)), its exit on a pidfd,
 * its snapshots on a timer. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "clock.h"
#include "errors.h"
#include "log.h"
#include "lost_output.h"
#include "output.h"
#include "proc.h"
#include "source.h"
#include "stall_output.h"
#include "target.h"

#define EXIT_FLUSH_MS 50   /* the exit tracepoint's last stalls reach the ring buffer */


static int stall_process(struct target *t)
{
	struct stall_exec e;
	int err = stall_monitor_process(t->stalls);

	if (!err && stall_monitor_take_exec(t->stalls, &e))
		err = target_follow_exec(t, &e);
	return err;
}

static int stall_next(const struct target *t)
{
	return stall_monitor_next_ms(t->stalls);
}

/* The aggregated events of the sites that fired again: those due at now,
 * every one held when now is INFINITY. */
void flush_sites(struct target *t, double now)
{
	json_t *due = json_array(), *ev;
	size_t i;

	if (!due)
		return;
	lost_sites_flush(t->lost_sites, now, due);
	json_array_foreach(due, i, ev)
		agent_publish(t->agent, json_incref(ev), true);
	json_decref(due);
}

static int lost_process(struct target *t)
{
	int err = t->lost ? lost_tracer_process(t->lost) : 0;

	flush_sites(t, clock_mono_s());
	return err;
}

static int lost_next(const struct target *t)
{
	int tracer = t->lost ? lost_tracer_next_ms(t->lost) : -1;
	int sites = lost_sites_next_ms(t->lost_sites, clock_mono_s());

	return tracer < 0 ? sites : sites < 0 ? tracer : tracer < sites ? tracer : sites;
}

static void driver_run(struct driver *d);

void driver_timer(uv_timer_t *h)
{
	driver_run(h->data);
}

static void driver_poll(uv_poll_t *h, int status, int events)
{
	driver_run(h->data);
}

/* Delivers what is ready, then sleeps until the detector's next deadline. */
static void driver_run(struct driver *d)
{
	struct target *t = d->t;
	int err, ms;

	if (t->stopping)
		return;
	err = d->process(t);
	if (err) {
		char why[160];

		snprintf(why, sizeof(why), "lost the kernel event stream: %s", ls_strerror(err));
		agent_target_gone(t->agent, t, why);
		return;
	}
	ms = d->next_ms(t);
	if (ms < 0)
		uv_timer_stop(&d->timer);
	else
		uv_timer_start(&d->timer, driver_timer, (uint64_t)ms, 0);
}

static void handle_closed(uv_handle_t *h)
{
	struct target *t = h->data;

	t->open_handles--;
	target_maybe_free(t);
}

/* A driver's handles point at their driver. */
static void driver_closed(uv_handle_t *h)
{
	struct driver *d = h->data;

	h->data = d->t;
	handle_closed(h);
}

static void open_handle(struct target *t, uv_handle_t *h, void *data)
{
	h->data = data;
	t->open_handles++;
}

static int driver_start(struct target *t, struct driver *d, int fd,
			int (*process)(struct target *), int (*next_ms)(const struct target *))
{
	int err;

	d->t = t;
	d->process = process;
	d->next_ms = next_ms;
	err = uv_poll_init(t->agent->loop, &d->poll, fd);
	if (err)
		return err;
	open_handle(t, (uv_handle_t *)&d->poll, d);
	uv_timer_init(t->agent->loop, &d->timer);
	open_handle(t, (uv_handle_t *)&d->timer, d);
	uv_poll_start(&d->poll, UV_READABLE, driver_poll);
	uv_timer_start(&d->timer, driver_timer, 0, 0);
	return 0;
}

static void on_stall(const struct stall_report *r, void *ctx)
{
	struct target *t = ctx;
	json_t *ev = stall_report_json(r);
	char key[32];

	snprintf(key, sizeof(key), "%llu", (unsigned long long)r->id);
	if (r->ongoing)
		json_object_set(t->ongoing, key, ev);
	else
		json_object_del(t->ongoing, key);
	agent_publish(t->agent, ev, !r->ongoing);
	if (!r->ongoing)
		metrics_count_stall(&t->finished, r->duration_ms);
	if (!r->ongoing && (ev = lint_sites_stall(t->sites, r, r->ts + r->duration_ms / 1e3)))
		target_publish_lint(t, ev);
}

void target_publish_lint(struct target *t, json_t *ev)
{
	const char *kind = json_string_value(json_object_get(ev, "lint"));

	for (int k = 0; k < LINT_KINDS && kind; k++)
		if (!strcmp(kind, lint_names[k]))
			t->lints_raised[k]++;
	agent_publish(t->agent, ev, true);
}

void on_lost(const struct lost_event *e, void *ctx)
{
	struct target *t = ctx;
	json_t *ev;

	lost_report_decode(t->proc, e, t->mono_to_unix_ns, &t->report);
	if (t->report.kind >= 1 && t->report.kind <= 3)
		t->lost_totals[t->report.kind]++;
	ev = lost_sites_event(t->lost_sites, &t->report, lost_report_json(&t->report), clock_mono_s());
	if (ev)
		agent_publish(t->agent, ev, true);
}

/* After the exit: the last stalls and events, then the target goes. */
static void exit_flush(uv_timer_t *h)
{
	struct target *t = h->data;

	stall_monitor_process(t->stalls);
	lost_process(t);
	flush_sites(t, INFINITY);
	agent_target_gone(t->agent, t, "exited");
}

static void on_exit_poll(uv_poll_t *h, int status, int events)
{
	struct target *t = h->data;

	if (t->exiting || t->stopping)
		return;
	t->exiting = true;
	uv_poll_stop(h);
	uv_timer_start(&t->exit_timer, exit_flush, EXIT_FLUSH_MS, 0);
}

void target_read_owner(struct target *t)
{
	uid_t uid;

	if (proc_uid(t->pid, &uid) || uid == t->owner)
		return;  /* gone: its exit is on its way, the owner stays */
	log_info("PID %d: now owned by uid %u (was uid %u)", t->pid, (unsigned)uid, (unsigned)t->owner);
	t->owner = uid;
	agent_owner_set(t->agent, t->pid, uid);
}

static void snap_tick(uv_timer_t *h)
{
	struct target *t = h->data;

	/* a process started as root may setuid() to its service user */
	target_read_owner(t);
	t->snap_ticked = uv_now(t->agent->loop);
	target_queue_snapshot(t);
}

void target_snapshot_every(struct target *t, uint64_t ms)
{
	uint64_t since = uv_now(t->agent->loop) - t->snap_ticked;

	if (ms == t->snap_interval_ms || t->stopping)
		return;
	t->snap_interval_ms = ms;
	uv_timer_start(&t->snap_timer, snap_tick, since < ms ? ms - since : 0, ms);
}

static void read_cmdline(struct target *t)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", t->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, t->cmdline, sizeof(t->cmdline) - 1) : 0;
	if (fd >= 0)
		close(fd);
	for (ssize_t i = 0; i < n; i++)
		if (!t->cmdline[i])
			t->cmdline[i] = ' ';
	while (n > 0 && t->cmdline[n - 1] == ' ')
		n--;
	t->cmdline[n > 0 ? n : 0] = 0;
	proc_thread_name(t->pid, t->pid, t->comm, sizeof(t->comm));
}

/* The lost tracer's fd in ours (lost_epfd), which the loop polls. */
int watch_lost(struct target *t)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (t->lost_epfd < 0)
		t->lost_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->lost_epfd < 0 ||
	    epoll_ctl(t->lost_epfd, EPOLL_CTL_ADD, lost_tracer_fd(t->lost), &ev) < 0)
		return -errno;
	return 0;
}

static int open_lost(struct target *t, char *why, size_t whylen)
{
	int err = lost_tracer_new(t->proc, on_lost, t, &t->lost, why, whylen);

	return err ? err : watch_lost(t);
}

/* The target's lost tracer, no longer watched nor its own: the caller frees it. */
struct lost_tracer *unwatch_lost(struct target *t)
{
	struct lost_tracer *l = t->lost;

	if (l && t->lost_epfd >= 0)
		epoll_ctl(t->lost_epfd, EPOLL_CTL_DEL, lost_tracer_fd(l), NULL);
	t->lost = NULL;
	return l;
}

void close_lost(struct target *t)
{
	lost_tracer_free(unwatch_lost(t));
}

static int open_detectors(struct target *t)
{
	struct stall_monitor_opts mo = {
		.pid = t->pid, .threshold_ns = (uint64_t)(t->agent->opts.threshold_ms * 1e6),
		.verbose = t->agent->opts.verbose, .stacks = true,
	};
	char why[400] = "";
	int err;

	err = py_proc_open(t->pid, &t->proc, why, sizeof(why));
	if (!err)
		err = py_proc_open(t->pid, &t->reader.p, why, sizeof(why));
	if (err) {
		log_warn("PID %d: %s", t->pid, why[0] ? why : ls_strerror(err));
		return err;
	}
	err = stall_monitor_new(&mo, on_stall, t, &t->stalls);
	if (!err)
		err = open_lost(t, why, sizeof(why));
	if (err) {
		log_warn("PID %d: cannot load the BPF detectors: %s", t->pid, ls_strerror(err));
		return err;
	}
	if (why[0])
		log_warn("PID %d: %s", t->pid, why);
	if (stall_monitor_warning(t->stalls))
		log_warn("PID %d: %s", t->pid, stall_monitor_warning(t->stalls));
	return 0;
}

static int start_handles(struct target *t)
{
	uv_loop_t *loop = t->agent->loop;
	int err;

	err = driver_start(t, &t->stall_drv, stall_monitor_fd(t->stalls), stall_process, stall_next);
	if (!err)
		err = driver_start(t, &t->lost_drv, t->lost_epfd, lost_process, lost_next);
	if (err)
		return err;
	uv_timer_init(loop, &t->snap_timer);
	open_handle(t, (uv_handle_t *)&t->snap_timer, t);
	t->snap_interval_ms = SNAPSHOT_INTERVAL_MS;
	uv_timer_start(&t->snap_timer, snap_tick, 0, SNAPSHOT_INTERVAL_MS);
	uv_timer_init(loop, &t->exit_timer);
	open_handle(t, (uv_handle_t *)&t->exit_timer, t);
	err = uv_poll_init(loop, &t->exit_poll, t->pidfd);
	if (err)
		return err;
	open_handle(t, (uv_handle_t *)&t->exit_poll, t);
	return uv_poll_start(&t->exit_poll, UV_READABLE, on_exit_poll);
}

int target_new(struct agent *a, pid_t pid, struct target **out)
{
	struct target *t = calloc(1, sizeof(*t));

	*out = t;
	if (!t)
		return -ENOMEM;
	t->agent = a;
	t->pid = pid;
	t->lost_epfd = -1;
	/* first, so that the process attached is the one that had this pid */
	t->pidfd = proc_pidfd(pid);
	t->ongoing = json_object();
	t->lost_sites = lost_sites_new();
	t->event_files = intern_new();
	t->reader.diff = task_diff_new(pid);
	t->sites = lint_sites_new(pid, a->opts.lint.repeat);
	t->task_lints = json_array();
	t->reader.guard = lint_guard_new(pid);
	t->reader.lints = t->reader.guard ? lint_tasks_new(pid, &a->opts.lint, lint_guard_source,
							   t->reader.guard) : NULL;
	t->mono_to_unix_ns = clock_mono_to_unix_ns();
	t->started = clock_mono_s();
	snprintf(t->snap_err_code, sizeof(t->snap_err_code), "no_snapshot");
	snprintf(t->snap_err, sizeof(t->snap_err), "no task snapshot of PID %d yet", pid);
	read_cmdline(t);
	if (t->pidfd < 0)
		return t->pidfd;
	if (proc_uid(pid, &t->owner))
		return -ESRCH;
	agent_owner_set(a, pid, t->owner);
	return t->ongoing && t->lost_sites && t->event_files && t->reader.diff && t->sites && t->task_lints && t->reader.lints
	       ? 0 : -ENOMEM;
}

int target_open(struct target *t)
{
	return open_detectors(t);
}

bool target_exited(const struct target *t)
{
	struct pollfd pfd = { .fd = t->pidfd, .events = POLLIN };

	return t->pidfd < 0 || poll(&pfd, 1, 0) > 0;
}

int target_start(struct target *t)
{
	if (target_exited(t))
		return -ESRCH;
	return start_handles(t);
}

/* Handles never initialized (a target that failed to start) have no loop. */
static void close_handle(uv_handle_t *h, uv_close_cb cb)
{
	if (h->loop && !uv_is_closing(h))
		uv_close(h, cb);
}

static void detach(uv_work_t *w)
{
	struct target *t = w->data;

	lost_tracer_free(t->dying_lost);
	stall_monitor_free(t->dying_stalls);
	t->dying_lost = NULL;
	t->dying_stalls = NULL;
}

static void detached(uv_work_t *w, int status)
{
	struct target *t = w->data;

	t->detaching = false;
	target_maybe_free(t);
}

void target_stop(struct target *t)
{
	if (t->stopping)
		return;
	t->stopping = true;
	agent_owner_gone(t->agent, t->pid);  /* remembered for the history's sake */
	close_handle((uv_handle_t *)&t->stall_drv.poll, driver_closed);
	close_handle((uv_handle_t *)&t->stall_drv.timer, driver_closed);
	close_handle((uv_handle_t *)&t->lost_drv.poll, driver_closed);
	close_handle((uv_handle_t *)&t->lost_drv.timer, driver_closed);
	close_handle((uv_handle_t *)&t->snap_timer, handle_closed);
	close_handle((uv_handle_t *)&t->exit_timer, handle_closed);
	close_handle((uv_handle_t *)&t->exit_poll, handle_closed);
	/* the probes go now, not when the last job ends; on the thread pool,
	 * since detaching uprobes takes the kernel ~0.7 s that the loop (and
	 * every other target and client) must not wait */
	t->dying_lost = unwatch_lost(t);
	t->dying_stalls = t->stalls;
	t->stalls = NULL;
	t->detaching = t->agent->loop && (t->dying_lost || t->dying_stalls);
	t->detach_work.data = t;
	if (t->detaching && uv_queue_work(t->agent->loop, &t->detach_work, detach, detached)) {
		detach(&t->detach_work);
		t->detaching = false;
	}
	target_maybe_free(t);
}

void target_maybe_free(struct target *t)
{
	if (!t->stopping || t->open_handles > 0 || t->running || t->detaching || t->exec.busy)
		return;
	target_jobs_free(t);
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->lost_epfd >= 0)
		close(t->lost_epfd);
	lost_report_free(&t->report);
	py_proc_free(t->proc);
	json_decref(t->ongoing);
	lost_sites_free(t->lost_sites);
	intern_free(t->event_files);
	json_decref(t->task_lints);
	lint_sites_free(t->sites);
	free(t);
}

pid_t target_pid(const struct target *t)
{
	return t->pid;
}

uid_t target_owner(const struct target *t)
{
	return t->owner;
}

bool target_named_file(const struct target *t, const char *file)
{
	return intern_has(t->event_files, file);
}

void target_note_files(struct target *t, const json_t *ev)
{
	source_note_files(t->event_files, ev);
}

json_t *target_hello_json(const struct target *t)
{
	const char *loop = !t->stats.loops ? NULL : t->stats.uvloop ? "uvloop" : "asyncio";

	return json_pack("{s:i, s:I, s:o, s:o, s:s, s:o, s:{s:b, s:b, s:b, s:b}}", "pid", t->pid,
		"uid", (json_int_t)t->owner, "comm", json_text(t->comm), "cmdline", json_text(t->cmdline),
		"python", t->proc->version, "loop", loop ? json_string(loop) : json_null(),
		"detectors", "stalls", true,
		"never_awaited", t->lost && lost_tracer_has_never_awaited(t->lost),
		"tasks", t->lost && lost_tracer_has_asyncio(t->lost),
		"stacks", t->stalls && !stall_monitor_warning(t->stalls));
}

static json_t *summary_json(const struct target *t)
{
	struct stall_summary s = { 0 };
	struct stall_run run = { .pid = t->pid, .target_exited = t->exiting,
				 .duration_s = clock_mono_s() - t->started };

	if (t->stalls)
		stall_monitor_summary(t->stalls, &s);
	return stall_summary_json(&s, &run);
}

json_t *target_stalls_json(const struct target *t)
{
	json_t *ongoing = json_array(), *v;
	const char *k;

	json_object_foreach(t->ongoing, k, v)
		json_array_append(ongoing, v);
	return json_pack("{s:i, s:o, s:o}", "pid", t->pid, "summary", summary_json(t),
			 "ongoing", ongoing);
}

static json_t *raised_json(const struct target *t)
{
	json_t *o = json_object();

	for (int k = 0; k < LINT_KINDS; k++)
		json_object_set_new(o, lint_names[k], json_integer((json_int_t)t->lints_raised[k]));
	return o;
}

json_t *target_lints_json(const struct target *t)
{
	json_t *arr = json_array();

	lint_sites_append(t->sites, arr);
	json_array_extend(arr, t->task_lints);
	return json_pack("{s:i, s:o, s:o}", "pid", t->pid, "lints", arr, "raised", raised_json(t));
}

void target_metrics(const struct target *t, struct metrics_target *m)
{
	struct stall_summary s = { 0 };

	*m = t->finished;
	m->pid = t->pid;
	snprintf(m->comm, sizeof(m->comm), "%s", t->comm);
	m->up = !t->stopping && !t->exiting;
	if (t->stalls) {
		stall_monitor_summary(t->stalls, &s);
		stall_monitor_totals(t->stalls, &m->lag);
	}
	m->busy_ratio = s.utilisation;
	m->tasks[AIO_PENDING] = t->stats.by_state[AIO_PENDING];
	m->tasks[AIO_RUNNING] = t->stats.by_state[AIO_RUNNING];
	m->tasks[AIO_DONE] = t->stats.by_state[AIO_DONE];
	m->tasks[AIO_CANCELLED] = t->stats.by_state[AIO_CANCELLED];
	m->never_awaited = t->lost_totals[LOST_NEVER_AWAITED];
	m->unretrieved = t->lost_totals[LOST_UNRETRIEVED];
	m->destroyed_pending = t->lost_totals[LOST_DESTROYED_PENDING];
	m->threads = t->stats.threads;
	memcpy(m->lints, t->lints_raised, sizeof(m->lints));
}

json_t *target_stats_json(const struct target *t)
{
	const struct snap_stats *s = &t->stats;
	json_t *o;

	o = json_pack("{s:i, s:o, s:o, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I}, "
			 "s:I, s:I, s:o, s:o, s:I, s:o, s:I, s:I, s:I}",
		"pid", t->pid, "comm", json_text(t->comm), "stalls", summary_json(t),
		"lost", "never_awaited", (json_int_t)t->lost_totals[LOST_NEVER_AWAITED],
		"unretrieved_exception", (json_int_t)t->lost_totals[LOST_UNRETRIEVED],
		"destroyed_pending", (json_int_t)t->lost_totals[LOST_DESTROYED_PENDING],
		"tasks", "total", (json_int_t)s->tasks, "pending", (json_int_t)s->by_state[AIO_PENDING],
		"running", (json_int_t)s->by_state[AIO_RUNNING], "done", (json_int_t)s->by_state[AIO_DONE],
		"cancelled", (json_int_t)s->by_state[AIO_CANCELLED],
		"loops", (json_int_t)s->loops, "threads", (json_int_t)s->threads,
		"snapshot_ms", json_round(s->ms, 3), "snapshot_cpu_ms", json_round(s->cpu_ms, 3),
		"snapshots", (json_int_t)t->snapshots,
		"snapshot_interval_s", json_round(t->snap_interval_ms / 1e3, 3),
		"ended_tasks", (json_int_t)s->ended,
		"missed_tasks", (json_int_t)s->missed, "names_held", (json_int_t)s->names);
	json_object_set_new(o, "lints", raised_json(t));
	return o;
}
