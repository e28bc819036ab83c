/* SPDX-License-Identifier: GPL-2.0-only */
/* Loads bpf/lost.bpf.c for one CPython process and attaches its
 * uprobes; only this file sees the skeleton. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "aio_layout.h"
#include "clock.h"
#include "errors.h"
#include "modules.h"
#include "lost_tracer.h"
#include "lost.skel.h"
#include "probe_sites.h"

#define MAX_NEVER_SITES 32
#define ATTACH_EVERY_NS 1000000000ULL  /* until asyncio is imported */

struct lost_tracer {
	struct lost_bpf *skel;
	struct ring_buffer *rb;
	struct py_proc *proc;
	struct bpf_link *links[MAX_NEVER_SITES + 2];
	size_t nlinks;
	bool finalizers_attached;
	uint64_t next_attach_ns;  /* when to try them again, until attached */
	bool never_awaited;       /* its probes are attached */
	char asyncio_note[512];   /* why the finalizer probes cost more here */
	char pure_python_note[256]; /* the probes cannot see this process's tasks */
	char asyncio_error[700];  /* _asyncio's file cannot be opened: which */
	lost_event_fn cb;
	void *ctx;
};

static int on_sample(void *ctx, void *data, size_t size)
{
	struct lost_tracer *t = ctx;
	struct lost_event *e;

	if (size < sizeof(*e))
		return 0;
	e = malloc(sizeof(*e)); /* too large for the stack of every caller */
	if (!e)
		return 0;
	memcpy(e, data, sizeof(*e));
	t->cb(e, t->ctx);
	free(e);
	return 0;
}

static void fill_config(struct lost_config *c, struct py_proc *p, const struct cpy_aio_layout *A)
{
	const struct cpy_layout *L = &p->L;

	c->tgid = (__u32)p->pid;
	c->minor = (__u32)p->minor;
	c->runtime = p->runtime;
	c->coro_type = p->types.coro;
	c->long_type = p->types.long_;
	c->unicode_type = p->types.unicode;
	c->float_type = p->types.float_;
	c->oserror_str = py_exc_oserror_str(p);
#define FROM_LAYOUT(name) c->name = L->name;
#define FROM_AIO_LAYOUT(name) c->name = A->name;
	LOST_CONFIG_FIELDS(FROM_LAYOUT, FROM_AIO_LAYOUT)
#undef FROM_LAYOUT
#undef FROM_AIO_LAYOUT
}

static int attach(struct lost_tracer *t, struct bpf_program *prog, const struct probe_site *s)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = s->cookie);
	struct bpf_link *link;

	if (t->nlinks >= sizeof(t->links) / sizeof(t->links[0]))
		return -ENOSPC;
	link = bpf_program__attach_uprobe_opts(prog, t->proc->pid, s->path, s->offset, &opts);
	if (!link)
		return -errno;
	t->links[t->nlinks++] = link;
	return 0;
}

static void attach_never_awaited(struct lost_tracer *t, char *warn, size_t warnlen)
{
	struct probe_site sites[MAX_NEVER_SITES];
	size_t n = 0, ok = 0;
	int err = probe_sites_never_awaited(t->proc, sites, MAX_NEVER_SITES, &n, warn, warnlen);

	for (size_t i = 0; !err && i < n; i++)
		ok += attach(t, t->skel->progs.lost_never_awaited, &sites[i]) == 0;
	t->never_awaited = ok > 0;
	if (!err && !ok)
		snprintf(warn, warnlen, "never-awaited coroutines are not detected: cannot attach "
			 "uprobes to %s", t->proc->binary);
}

/* asyncio.tasks.Task or asyncio.futures.Future replaced by the pure-Python
 * _PyTask/_PyFuture (no _asyncio, or a program that chose them): those die
 * in a Python __del__ that no probe sees. Tasks a task factory makes
 * cannot be seen from here at all. */
static void check_pure_python(struct lost_tracer *t, uint64_t task_type)
{
	struct py_proc *p = t->proc;
	uint64_t task = 0, fut = 0, c_fut = 0;
	bool py_task, py_fut;

	py_task = !py_module_attr(p, "asyncio.tasks", "Task", &task) && task != task_type;
	py_fut = !py_module_attr(p, "asyncio.futures", "Future", &fut) &&
		 !py_module_attr(p, "_asyncio", "Future", &c_fut) && fut != c_fut;
	if (py_task || py_fut)
		snprintf(t->pure_python_note, sizeof(t->pure_python_note),
			 "asyncio's %s here the pure-Python %s: lost work of those is not "
			 "reported (only the C _asyncio classes are probed)",
			 py_task && py_fut ? "Task and Future are" : py_task ? "Task is" : "Future is",
			 py_task && py_fut ? "_PyTask and _PyFuture" : py_task ? "_PyTask" : "_PyFuture");
}

const char *lost_tracer_pure_python_note(const struct lost_tracer *t)
{
	return t->pure_python_note[0] ? t->pure_python_note : NULL;
}

int lost_tracer_attach_asyncio(struct lost_tracer *t)
{
	struct finalizer_probes f;
	int err;

	if (t->finalizers_attached)
		return 0;
	err = probe_sites_finalizers(t->proc, &f);
	t->asyncio_error[0] = 0;
	if (err == -LS_ENOFILE)
		snprintf(t->asyncio_error, sizeof(t->asyncio_error), "task and future checks are "
			 "off: %s", t->proc->file_error);
	if (err)
		return err;
	t->skel->bss->task_type = f.task_type;
	if (f.in_branches) {
		err = attach(t, t->skel->progs.lost_finalize_branch, &f.exception_branch);
		if (!err)
			err = attach(t, t->skel->progs.lost_finalize_branch, &f.pending_branch);
	} else {
		snprintf(t->asyncio_note, sizeof(t->asyncio_note), "%s", f.why);
		err = attach(t, t->skel->progs.lost_task_finalize, &f.task_entry);
		if (!err)
			err = attach(t, t->skel->progs.lost_future_finalize, &f.future_entry);
	}
	if (!err) {
		t->finalizers_attached = true;
		check_pure_python(t, f.task_type);
	}
	return err;
}

const char *lost_tracer_asyncio_note(const struct lost_tracer *t)
{
	return t->asyncio_note[0] ? t->asyncio_note : NULL;
}

const char *lost_tracer_asyncio_error(const struct lost_tracer *t)
{
	return t->asyncio_error[0] ? t->asyncio_error : NULL;
}

int lost_tracer_new(struct py_proc *p, lost_event_fn cb, void *ctx,
			struct lost_tracer **out, char *warn, size_t warnlen)
{
	const struct cpy_aio_layout *A = &p->A;
	struct lost_tracer *t;
	int err;

	warn[0] = 0;
	if (!A)
		return -LS_EUNSUPPORTED;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->proc = p;
	t->cb = cb;
	t->ctx = ctx;
	t->skel = lost_bpf__open();
	if (!t->skel) {
		err = -errno;
		goto fail;
	}
	fill_config((struct lost_config *)&t->skel->rodata->cfg, p, A);
	err = lost_bpf__load(t->skel);
	if (err)
		goto fail;
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_sample, t, NULL);
	if (!t->rb) {
		err = -errno;
		goto fail;
	}
	attach_never_awaited(t, warn, warnlen);
	lost_tracer_attach_asyncio(t);
	t->next_attach_ns = clock_mono_ns() + ATTACH_EVERY_NS;
	*out = t;
	return 0;
fail:
	lost_tracer_free(t);
	return err < 0 ? err : -err;
}

int lost_tracer_fd(const struct lost_tracer *t)
{
	return ring_buffer__epoll_fd(t->rb);
}

int lost_tracer_process(struct lost_tracer *t)
{
	int n = ring_buffer__consume(t->rb);
	uint64_t now;

	if (n < 0)
		return n;
	now = clock_mono_ns();
	if (!t->finalizers_attached && now >= t->next_attach_ns) {
		lost_tracer_attach_asyncio(t);
		t->next_attach_ns = now + ATTACH_EVERY_NS;
	}
	return 0;
}

int lost_tracer_next_ms(const struct lost_tracer *t)
{
	return t->finalizers_attached ? -1 : clock_ms_until(t->next_attach_ns);
}

bool lost_tracer_has_never_awaited(const struct lost_tracer *t)
{
	return t->never_awaited;
}

bool lost_tracer_has_asyncio(const struct lost_tracer *t)
{
	return t->finalizers_attached;
}

uint64_t lost_tracer_dropped(const struct lost_tracer *t)
{
	return t->skel->bss->dropped;
}

void lost_tracer_free(struct lost_tracer *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nlinks; i++)
		bpf_link__destroy(t->links[i]);
	ring_buffer__free(t->rb);
	lost_bpf__destroy(t->skel);
	free(t);
}
