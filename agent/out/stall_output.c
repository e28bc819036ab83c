/* SPDX-License-Identifier: GPL-2.0-only */
#include "output.h"
#include "stall_output.h"
#include "syscalls.h"
#include "text.h"

static const char *sc_name(const struct stall_syscall *sc)
{
	return sc->nr < 0 ? "other" : syscall_name(sc->nr);
}

static json_t *syscalls_json(const struct stall_report *r)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < r->nsyscalls; i++) {
		const struct stall_syscall *sc = &r->syscalls[i];
		json_t *o = json_pack("{s:s, s:I, s:o}", "name", sc_name(sc),
				      "count", (json_int_t)sc->count, "ms", json_round(sc->ms, 3));

		if (sc->in_progress)
			json_object_set_new(o, "in_progress", json_true());
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *stall_report_json(const struct stall_report *r)
{
	json_t *o = json_pack("{s:s, s:I, s:i, s:i, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o}",
		"event", "stall", "id", (json_int_t)r->id, "pid", r->pid, "tid", r->tid,
		"ts", json_round(r->ts, 6), "duration_ms", json_round(r->duration_ms, 3),
		"on_cpu_ms", json_round(r->on_cpu_ms, 3), "off_cpu_ms", json_round(r->off_cpu_ms, 3),
		"ongoing", r->ongoing, "syscalls", syscalls_json(r),
		"task", py_task_json(r->task), "stack", py_stack_json(r->stack));

	json_object_set_new(o, "thread", json_text(r->thread_name));
	if (r->stack && r->stack->partial)
		json_object_set_new(o, "stack_partial", json_true());
	if (r->wait == STALL_WAIT_GIL)
		json_object_set_new(o, "wait", json_string("gil"));
	if (r->wait == STALL_WAIT_LOCK) {
		char addr[24];

		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)r->futex);
		json_object_set_new(o, "wait", json_string("lock"));
		json_object_set_new(o, "futex", json_string(addr));
	}
	if (r->gil_holder > 0) {
		json_object_set_new(o, "gil_holder", json_pack("{s:i, s:o}", "tid", r->gil_holder,
			"stack", py_stack_json(r->gil_holder_stack)));
	}
	if (r->thread_exited)
		json_object_set_new(o, "thread_exited", json_true());
	if (r->unfinished)
		json_object_set_new(o, "unfinished", json_true());
	return o;
}

json_t *stall_summary_json(const struct stall_summary *s, const struct stall_run *run)
{
	return json_pack("{s:s, s:i, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:b, s:I, s:i, s:s}",
		"event", "summary", "pid", run->pid, "duration_s", json_round(run->duration_s, 3),
		"stalls", (json_int_t)s->stalls, "unfinished", (json_int_t)s->unfinished,
		"worst_ms", json_round(s->worst_ms, 3),
		"busy_p50_ms", json_round(s->busy_p50_ms, 3),
		"busy_p99_ms", json_round(s->busy_p99_ms, 3),
		"utilisation", json_round(s->utilisation, 4), "dropped", (json_int_t)s->dropped,
		"untracked_threads", (json_int_t)s->untracked, "target_exited", run->target_exited, "iterations", (json_int_t)s->iterations,
		"loops", s->loops_seen, "mode", s->precise ? "precise" : "light");
}

/* The stall's first line: when, how long, which thread, on/off CPU, its
 * main syscalls, its id. */
static void header_print(FILE *f, const struct stall_report *r)
{
	const struct colors *c = colors_for(f);
	const char *sev = r->duration_ms >= 1000 ? c->red : c->yellow;

	output_clock_print(f, r->ts);
	fprintf(f, "  %s%sSTALL %8.1f ms%s%s  tid %d (%s)  on-CPU %.1f ms  off-CPU %.1f ms",
		c->bold, sev, r->duration_ms, r->ongoing ? " and counting" : "", c->reset,
		r->tid, text_safe(r->thread_name), r->on_cpu_ms, r->off_cpu_ms);
	for (size_t i = 0; i < r->nsyscalls && i < 3; i++) {
		const struct stall_syscall *sc = &r->syscalls[i];

		fprintf(f, "%s %s %llu\u00d7 %.1f ms%s", i ? "," : " ", sc_name(sc),
			(unsigned long long)sc->count, sc->ms, sc->in_progress ? " (in progress)" : "");
	}
	fprintf(f, "  [#%llu]%s\n", (unsigned long long)r->id,
		r->unfinished ? "  (still under way when watching ended)" : "");
}

void stall_report_print(FILE *f, const struct stall_report *r)
{
	const struct colors *c = colors_for(f);

	header_print(f, r);
	if (r->task)
		fprintf(f, "    task %s%s%s (%s) 0x%llx\n", c->cyan, text_safe(r->task->name), c->reset,
			text_safe(r->task->coro), (unsigned long long)r->task->addr);
	if (r->gil_holder > 0) {
		fprintf(f, "    waiting for the GIL held by thread %d:\n", r->gil_holder);
		py_stack_print(f, r->gil_holder_stack, "      ", 12);
	} else if (r->wait == STALL_WAIT_GIL) {
		fprintf(f, "    waiting for the GIL\n");
	} else if (r->wait == STALL_WAIT_LOCK) {
		fprintf(f, "    waiting on a lock (futex 0x%llx)\n", (unsigned long long)r->futex);
	}
	py_stack_print(f, r->stack, "    ", 12);
	fflush(f);
}

void stall_report_emit(struct stall_printer *p, FILE *f, const struct stall_report *r)
{
	if (p->json) {
		ndjson_print(f, stall_report_json(r));
		return;
	}
	/* text: a stall under way is worth a line once it is long (a second,
	 * or the threshold when that is longer), then as it grows */
	if (r->ongoing && !r->unfinished && r->duration_ms < 1000 && p->threshold_ms < 1000)
		return;
	if (!r->ongoing || r->id != p->shown_id) {
		stall_report_print(f, r);
		p->shown_id = r->ongoing ? r->id : 0;
		return;
	}
	header_print(f, r); /* the same stall, longer: its stack was shown */
	fflush(f);
}

json_t *stall_exec_json(pid_t pid, const struct stall_exec *e, double ts)
{
	return json_pack("{s:s, s:i, s:o, s:I, s:o, s:o}", "event", "target_exec", "pid", pid,
			 "ts", json_round(ts, 6), "execs", (json_int_t)e->execs,
			 "exe", json_text(e->exe), "python", e->python ? json_string(e->python) : json_null());
}

void stall_exec_emit(const struct stall_printer *p, FILE *f, pid_t pid, const struct stall_exec *e,
		     double ts)
{
	if (p->json) {
		ndjson_print(f, stall_exec_json(pid, e, ts));
		return;
	}
	output_clock_print(f, ts);
	if (e->python)
		fprintf(f, "  EXEC     PID %d now runs %s (Python %s): watching the new program\n", pid,
			text_safe(e->exe), e->python);
	else
		fprintf(f, "  EXEC     PID %d now runs %s, not a Python loopscope reads: stalls "
			"without stacks from now on\n", pid, text_safe(e->exe));
	fflush(f);
}

void stall_summary_print(FILE *f, const struct stall_summary *s, const struct stall_run *run)
{
	const struct colors *c = colors_for(f);

	fprintf(f, "\n%s--- PID %d: %.1f s watched%s ---%s\n", c->bold, run->pid, run->duration_s,
		run->target_exited ? ", target exited" : "", c->reset);
	fprintf(f, "stalls: %llu", (unsigned long long)s->stalls);
	if (s->unfinished)
		fprintf(f, " (%llu still under way)", (unsigned long long)s->unfinished);
	fprintf(f, "   worst: %.1f ms   loop threads: %d\n", s->worst_ms, s->loops_seen);
	fprintf(f, "loop iterations: %llu%s   busy p50: %.3f ms   p99: %.3f ms (log2 buckets, "
		"interpolated)   utilisation: %.1f%%\n",
		(unsigned long long)s->iterations, s->precise ? "" : " (a loop that never blocks is cut at its callbacks)",
		s->busy_p50_ms, s->busy_p99_ms, s->utilisation * 100);
	if (s->dropped)
		fprintf(f, "%sevents dropped: %llu (ring buffer full)%s\n", c->red,
			(unsigned long long)s->dropped, c->reset);
	else
		fprintf(f, "events dropped: 0\n");
	stall_untracked_print(f, s);
}

void stall_untracked_print(FILE *f, const struct stall_summary *s)
{
	const struct colors *c = colors_for(f);

	if (s->untracked)
		fprintf(f, "%suntracked loop threads: %llu (no free slot for them: their stalls are "
			"missed)%s\n", c->red, (unsigned long long)s->untracked, c->reset);
}
