/* SPDX-License-Identifier: GPL-2.0-only */
/* The stall monitor's Python view of its target: the sampler (stacks,
 * heartbeats, the loops Python knows) and the loop watcher on it, opened
 * at start and read again from the new program after each exec, which
 * keeps the PID: the kernel side follows it by itself. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "errors.h"
#include "proc.h"
#include "stall_monitor_int.h"

/* Warnings for the user, joined into one line. */
static void __attribute__((format(printf, 2, 3))) add_warning(struct stall_monitor *m, const char *fmt, ...)
{
	size_t used = strlen(m->warning);
	va_list ap;

	if (used && used + 2 < sizeof(m->warning)) {
		strcat(m->warning, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(m->warning + used, sizeof(m->warning) - used, fmt, ap);
	va_end(ap);
}

static int open_sampler(struct stall_monitor *m, char *why, size_t whylen)
{
	int err = stall_sampler_new(m->opts.pid, &m->sampler, why, whylen);

	m->sampler_err = err;
	if (err)
		return err;
	if (!m->profiles)
		m->profiles = calloc(LS_MAX_LOOPS, sizeof(*m->profiles));
	if (!m->last_sample_ns)
		m->last_sample_ns = calloc(LS_MAX_LOOPS, sizeof(*m->last_sample_ns));
	if (m->profiles && m->last_sample_ns)
		return 0;
	snprintf(why, whylen, "out of memory");
	stall_sampler_free(m->sampler);
	m->sampler = NULL;
	return -ENOMEM;
}

void stall_python_start(struct stall_monitor *m)
{
	char why[640] = "";  /* room for a file name that cannot be opened */
	int err = open_sampler(m, why, sizeof(why));

	if (!err)
		return;
	add_warning(m, "stalls are reported without Python stacks, and loop iterations are found "
		    "by tracing every syscall entry (which costs every process): %s",
		    why[0] ? why : ls_strerror(err));
}

/* No heartbeat to read without Python (not an asyncio process): every
 * poll entry is traced instead. */
void stall_python_trace_without(struct stall_monitor *m)
{
	if (!m->opts.precise && !m->sampler)
		stall_tracer_trace_syscalls(m->tracer);
}

/* The loop watcher, on a new Python view (NULL: none). */
int stall_python_renew_loops(struct stall_monitor *m)
{
	struct stall_loops *l;
	int err = stall_loops_new(m->opts.pid, m->tracer, m->sampler, &l);

	if (err)
		return err;
	stall_loops_free(m->loops);
	m->loops = l;
	return 0;
}

/* The new program is read this often after an exec, for this long (it
 * is not Python, or not one loopscope reads, after that). */
#define EXEC_RETRY_NS 20000000ULL
#define EXEC_PATIENCE_NS 3000000000ULL

/* Drops what was read of the program the target replaced (its stacks
 * name the old program's strings; its heartbeats and loops are gone):
 * the kernel side goes on, on the same PID. */
static int drop_python(struct stall_monitor *m)
{
	struct stall_sampler *old = m->sampler;
	int err;

	m->sampler = NULL;
	err = stall_python_renew_loops(m);
	if (err) {
		m->sampler = old;
		return err;
	}
	for (int i = 0; m->profiles && i < LS_MAX_LOOPS; i++)
		span_profile_reset(&m->profiles[i], span_key_of(0, 0));
	py_stack_clear(&m->scratch.stack);
	py_stack_clear(&m->scratch.holder_stack);
	stall_sampler_free(old);
	return 0;
}

/* The new program, once its interpreter has a thread: 0, or not yet. */
static int read_new_program(struct stall_monitor *m)
{
	char why[640];
	int err = open_sampler(m, why, sizeof(why));

	if (!err && !stall_sampler_started(m->sampler))
		err = -EAGAIN;
	if (!err)
		err = stall_python_renew_loops(m);
	if (!err) {
		stall_loops_seed_waiting(m->opts.pid, m->tracer);
		return 0;
	}
	stall_sampler_free(m->sampler);
	m->sampler = NULL;
	return err;
}

/* After an exec (the kernel side counts them): the new interpreter is
 * read again, its loops found again, and the exec is told once it is. */
int stall_python_follow_exec(struct stall_monitor *m, uint64_t now)
{
	uint64_t n = stall_tracer_execs(m->tracer);
	int err;

	if (n != m->execs) {
		err = drop_python(m);
		if (err)
			return err;
		m->execs = n;
		m->exec_at = now;
		m->exec_retry_at = now;
	}
	if (!m->exec_at || now < m->exec_retry_at)
		return 0;
	if (read_new_program(m) && now - m->exec_at < EXEC_PATIENCE_NS) {
		m->exec_retry_at = now + EXEC_RETRY_NS;
		return 0;
	}
	stall_python_trace_without(m);
	m->exec_at = 0;
	m->exec_news = true;
	return 0;
}

bool stall_monitor_take_exec(struct stall_monitor *m, struct stall_exec *out)
{
	if (!m->exec_news)
		return false;
	m->exec_news = false;
	out->execs = m->execs;
	out->python = m->sampler ? stall_sampler_python(m->sampler) : NULL;
	proc_exe_path(m->opts.pid, out->exe, sizeof(out->exe));
	return true;
}

