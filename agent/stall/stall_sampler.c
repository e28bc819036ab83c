/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "aio.h"
#include "errors.h"
#include "modules.h"
#include "pyproc.h"
#include "stall_kstack.h"
#include "stall_sampler.h"

#define SAMPLE_DEPTH 256  /* a stall's culprit is near the top */

#define MAX_BEATS 64
#define BEAT_RECHECK_NS 1000000000ULL  /* a loop may be closed and replaced */

struct stall_sampler {
	struct py_proc *proc;
	struct stall_kstack *kstack;  /* loaded at the first stall; NULL: not yet, or */
	int kstack_err;               /* it cannot be: user-space reads only */
	struct stall_sample decoded;  /* the kernel's sample being handed over */
	stall_kernel_fn kernel_fn;
	void *kernel_ctx;
	struct py_thread *threads;  /* the last thread list read, any length */
	size_t nthreads;
	struct beat_source {
		pid_t tid;
		int err;            /* 0, or why this thread has no heartbeat */
		uint64_t counter;   /* the ready deque */
		uint64_t found_at;
	} beats[MAX_BEATS];
};

static const struct py_thread *thread_of_tid(struct stall_sampler *s, pid_t tid, bool refresh);

/* Nothing read yet. */
static void sample_clear(struct stall_sample *out)
{
	py_stack_clear(&out->stack);
	py_stack_clear(&out->holder_stack);
	out->has_task = false;
	out->gil_holder = 0;
	out->wait = STALL_WAIT_NONE;
	out->futex = 0;
}

/* The kernel's frames as a stack, with the task running on it. */
static int decode_kernel_sample(struct stall_sampler *s, const struct kstack_event *e,
				struct stall_sample *out)
{
	const struct py_thread *t = thread_of_tid(s, (pid_t)e->tid, false);
	uint32_t n = e->stack.nframes < PYFRAMES_MAX ? e->stack.nframes : PYFRAMES_MAX;

	sample_clear(out);
	if (!t || e->stack.faulted)
		return -LS_ECHANGED;
	for (uint32_t i = 0; i < n; i++) {
		const struct py_raw_frame *f = &e->stack.frames[i];
		int err = py_frame_push(s->proc, &out->stack, f->frame, f->code, f->lasti, f->owner);

		if (err)
			return err;
	}
	out->stack.truncated = e->stack.truncated;
	out->has_task = aio_task_on_stack(s->proc, t->tstate, &out->stack, &out->task) == 0;
	return 0;
}

static void on_kernel_sample(const struct kstack_event *e, void *ctx)
{
	struct stall_sampler *s = ctx;
	bool whole = decode_kernel_sample(s, e, &s->decoded) == 0;

	s->kernel_fn((pid_t)e->tid, e->ts, whole ? &s->decoded : NULL, s->kernel_ctx);
}

int stall_sampler_new(pid_t pid, struct stall_sampler **out, char *why, size_t whylen)
{
	struct stall_sampler *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	err = py_proc_open(pid, &s->proc, why, whylen);
	if (err) {
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

bool stall_sampler_has_asyncio(struct stall_sampler *s)
{
	uint64_t dict;

	return py_module_dict(s->proc, "asyncio", &dict) == 0;
}

void stall_sampler_free(struct stall_sampler *s)
{
	if (!s)
		return;
	stall_kstack_free(s->kstack);
	stall_sample_free(&s->decoded);
	py_proc_free(s->proc);
	free(s->threads);
	free(s);
}

static int refresh_threads(struct stall_sampler *s)
{
	struct py_thread *v;
	size_t n;
	int err = py_proc_thread_list(s->proc, &v, &n);

	if (err)
		return err;
	free(s->threads);
	s->threads = v;
	s->nthreads = n;
	return 0;
}

bool stall_sampler_started(struct stall_sampler *s)
{
	return refresh_threads(s) == 0 && s->nthreads > 0;
}

const char *stall_sampler_python(const struct stall_sampler *s)
{
	return s->proc->version;
}

static const struct py_thread *thread_of_tid(struct stall_sampler *s, pid_t tid, bool refresh)
{
	if (refresh && refresh_threads(s))
		s->nthreads = 0;
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].tid == tid)
			return &s->threads[i];
	return refresh ? NULL : thread_of_tid(s, tid, true);
}

static pid_t tid_of_tstate(struct stall_sampler *s, uint64_t tstate)
{
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].tstate == tstate)
			return s->threads[i].tid;
	return 0;
}

/* A loop thread asleep in a futex: on the GIL's condition or mutex it
 * waits for the GIL (name the holder and its stack), elsewhere on a lock.
 * Where the GIL's address cannot be read, a futex wait while another
 * thread holds the GIL is taken for a GIL wait, as it most likely is. */
static void read_futex_wait(struct stall_sampler *s, const struct py_thread *t, uint64_t futex,
			    struct stall_sample *out)
{
	uint64_t holder;
	bool is_gil;
	bool known = py_proc_gil_waits_on(s->proc, t->interp, futex, &is_gil) == 0;

	out->futex = futex;
	if (known && !is_gil) {
		out->wait = STALL_WAIT_LOCK;
		return;
	}
	if (known)
		out->wait = STALL_WAIT_GIL;
	if (py_proc_gil_holder(s->proc, t->interp, &holder) || !holder || holder == t->tstate)
		return;
	out->gil_holder = tid_of_tstate(s, holder);
	if (!out->gil_holder)
		return;
	if (py_proc_stack(s->proc, holder, &out->holder_stack, SAMPLE_DEPTH))
		py_stack_clear(&out->holder_stack);
}

int stall_sampler_read(struct stall_sampler *s, pid_t tid, uint64_t futex, struct stall_sample *out)
{
	const struct py_thread *t = thread_of_tid(s, tid, false);
	int err;

	sample_clear(out);
	if (!t)
		return -LS_ENOTFOUND;
	err = py_proc_stack(s->proc, t->tstate, &out->stack, SAMPLE_DEPTH);
	if (err)
		return err;
	out->has_task = aio_task_on_stack(s->proc, t->tstate, &out->stack, &out->task) == 0;
	if (futex)
		read_futex_wait(s, t, futex, out);
	return 0;
}

static int find_heartbeat(struct stall_sampler *s, pid_t tid, uint64_t *counter)
{
	const struct py_thread *t = thread_of_tid(s, tid, false);
	uint64_t loop;

	if (!t)
		return -LS_ENOLOOP;
	loop = aio_running_loop(s->proc, t->tstate);
	if (!loop)
		return -LS_ENOLOOP;
	return aio_loop_ready_queue(s->proc, loop, counter);
}

static struct beat_source *beat_source_of(struct stall_sampler *s, pid_t tid, uint64_t now)
{
	struct beat_source *b = NULL;

	for (int i = 0; i < MAX_BEATS && !b; i++)
		if (s->beats[i].tid == tid)
			b = &s->beats[i];
	for (int i = 0; i < MAX_BEATS && !b; i++)
		if (!s->beats[i].tid || now - s->beats[i].found_at > 60 * BEAT_RECHECK_NS)
			b = &s->beats[i];
	if (!b)
		b = &s->beats[tid % MAX_BEATS];
	if (b->tid != tid || now - b->found_at > BEAT_RECHECK_NS) {
		b->tid = tid;
		b->found_at = now;
		b->err = find_heartbeat(s, tid, &b->counter);
	}
	return b;
}

int stall_sampler_heartbeat(struct stall_sampler *s, pid_t tid, uint64_t now_ns, uint64_t *beat)
{
	struct beat_source *b = beat_source_of(s, tid, now_ns);
	int err;

	if (b->err)
		return b->err;
	err = aio_ready_queue_beat(s->proc, b->counter, beat);
	if (err)
		b->found_at = 0; /* look for it again next time */
	return err;
}

bool stall_sampler_runs_no_loop(struct stall_sampler *s, pid_t tid)
{
	const struct py_thread *t = thread_of_tid(s, tid, true);
	uint64_t loop;

	return t && aio_thread_loop(s->proc, t->tstate, &loop) == 0 && !loop;
}

int stall_sampler_loops(struct stall_sampler *s, struct sampler_loop *out, size_t max, size_t *n)
{
	int err = refresh_threads(s);

	*n = 0;
	if (err)
		return err;
	for (size_t i = 0; i < s->nthreads && *n < max; i++) {
		uint64_t loop = aio_running_loop(s->proc, s->threads[i].tstate);

		if (!loop || !s->threads[i].tid)
			continue;
		out[*n].tid = s->threads[i].tid;
		out[*n].uvloop = aio_is_uvloop(s->proc, loop);
		out[*n].epfd = out[*n].uvloop ? -1 : aio_loop_epoll_fd(s->proc, loop);
		(*n)++;
	}
	return 0;
}

bool stall_sampler_kernel_keep(struct stall_sampler *s, const pid_t *tids, size_t n)
{
	uint64_t tstates[KSTACK_MAX_THREADS];
	pid_t found[KSTACK_MAX_THREADS];
	size_t nfound = 0;

	if (!s->kstack && n && !s->kstack_err)
		s->kstack_err = stall_kstack_new(s->proc, on_kernel_sample, s, &s->kstack);
	if (!s->kstack)
		return false;
	for (size_t i = 0; i < n && nfound < KSTACK_MAX_THREADS; i++) {
		const struct py_thread *t = thread_of_tid(s, tids[i], false);

		if (!t)
			continue;
		found[nfound] = tids[i];
		tstates[nfound++] = t->tstate;
	}
	return stall_kstack_keep(s->kstack, found, tstates, nfound) == 0;
}

void stall_sampler_kernel_drain(struct stall_sampler *s, stall_kernel_fn fn, void *ctx)
{
	if (!s->kstack)
		return;
	s->kernel_fn = fn;
	s->kernel_ctx = ctx;
	stall_kstack_drain(s->kstack);
}

void stall_sample_free(struct stall_sample *smp)
{
	py_stack_free(&smp->stack);
	py_stack_free(&smp->holder_stack);
}

void span_profile_reset(struct span_profile *sp, struct span_key key)
{
	for (int i = 0; i < sp->nbuckets; i++) {
		py_stack_clear(&sp->buckets[i].sample.stack);
		py_stack_clear(&sp->buckets[i].sample.holder_stack);
		sp->buckets[i].count = 0;
		sp->buckets[i].gil_count = 0;
		sp->buckets[i].lock_count = 0;
	}
	sp->nbuckets = 0;
	sp->samples = 0;
	sp->gil_samples = 0;
	sp->lock_samples = 0;
	sp->key = key;
}

static bool same_reading(const struct stall_sample *a, const struct stall_sample *b)
{
	if (a->has_task != b->has_task || (a->has_task && a->task.addr != b->task.addr))
		return false;
	return py_stack_equal(&a->stack, &b->stack);
}

static void copy_sample(struct stall_sample *dst, const struct stall_sample *src)
{
	py_stack_copy(&dst->stack, &src->stack);
	py_stack_copy(&dst->holder_stack, &src->holder_stack);
	dst->has_task = src->has_task;
	dst->task = src->task;
	dst->gil_holder = src->gil_holder;
	dst->wait = src->wait;
	dst->futex = src->futex;
}

/* The torn reading seen least, emptied for a whole one when every bucket
 * is taken; NULL when none is torn. */
static struct span_bucket *displaced_partial(struct span_profile *sp)
{
	struct span_bucket *least = NULL;

	for (int i = 0; i < sp->nbuckets; i++) {
		struct span_bucket *b = &sp->buckets[i];

		if (b->sample.stack.partial && (!least || b->count < least->count))
			least = b;
	}
	if (least)
		least->count = least->gil_count = least->lock_count = 0;
	return least;
}

void span_profile_add(struct span_profile *sp, const struct stall_sample *smp)
{
	struct span_bucket *b = NULL;

	sp->samples++;
	if (smp->gil_holder)
		sp->gil_samples++;
	if (smp->wait == STALL_WAIT_LOCK)
		sp->lock_samples++;
	for (int i = 0; i < sp->nbuckets && !b; i++)
		if (same_reading(&sp->buckets[i].sample, smp))
			b = &sp->buckets[i];
	if (!b && sp->nbuckets < SPAN_MAX_BUCKETS)
		b = &sp->buckets[sp->nbuckets++];
	else if (!b && !smp->stack.partial)
		b = displaced_partial(sp);
	if (b && !b->count)
		copy_sample(&b->sample, smp);
	if (!b)
		return; /* too many distinct stacks: the top ones are kept */
	b->count++;
	if (smp->gil_holder) {
		b->gil_count++;
		if (!b->sample.gil_holder) {
			b->sample.gil_holder = smp->gil_holder;
			py_stack_copy(&b->sample.holder_stack, &smp->holder_stack);
		}
	}
	if (smp->wait == STALL_WAIT_LOCK && !b->lock_count++) {
		b->sample.wait = STALL_WAIT_LOCK;
		b->sample.futex = smp->futex;
	}
}

/* b's stack runs under under's: deeper, the same outer frames; never a
 * torn one under a whole one. */
static bool runs_under(const struct span_bucket *b, const struct span_bucket *under)
{
	if (b->sample.stack.partial && !under->sample.stack.partial)
		return false;
	return py_stack_extends(&b->sample.stack, &under->sample.stack);
}

/* The most frequent reading among those that run under `under` (all of
 * them when NULL); a stack read whole beats any number of torn ones: a
 * thread running a chain of generators (json's pure-Python encoder)
 * switches frames under a reader from outside so often that most such
 * reads are cut after their top frame, which would hide the line that
 * called them. */
static const struct span_bucket *most_frequent(const struct span_profile *sp,
					       const struct span_bucket *under)
{
	const struct span_bucket *top = NULL;

	for (int i = 0; i < sp->nbuckets; i++) {
		const struct span_bucket *b = &sp->buckets[i];
		bool better_kind = top && top->sample.stack.partial && !b->sample.stack.partial;
		bool same_kind = top && top->sample.stack.partial == b->sample.stack.partial;

		if (under && !runs_under(b, under))
			continue;
		if (!top || better_kind || (same_kind && b->count > top->count))
			top = b;
	}
	return top;
}

/* How many samples ran deeper than b's stack, under it. */
static int samples_under(const struct span_profile *sp, const struct span_bucket *b)
{
	int n = 0;

	for (int i = 0; i < sp->nbuckets; i++)
		if (runs_under(&sp->buckets[i], b))
			n += sp->buckets[i].count;
	return n;
}

/* The hot path, as a flame graph shows it: from the most frequent reading,
 * down into what runs under it while that took more samples than it did.
 * Generator code spreads its time over many distinct deep stacks, while
 * the moments between two resumptions (a C consumer such as list() or
 * sum() running, a chain half relinked) all read as the same shallow one,
 * which would otherwise win on count alone. */
const struct span_bucket *span_profile_top(const struct span_profile *sp)
{
	const struct span_bucket *top = most_frequent(sp, NULL);

	while (top && samples_under(sp, top) > top->count)
		top = most_frequent(sp, top);
	return top;
}

static int gil_count_of(const struct span_bucket *b)
{
	return b->gil_count;
}

static int lock_count_of(const struct span_bucket *b)
{
	return b->lock_count;
}

/* The bucket with the most samples of a kind, when most samples of the
 * span (of `kind` of them) are of that kind. */
static const struct span_bucket *majority_bucket(const struct span_profile *sp, int kind,
						 int (*count)(const struct span_bucket *))
{
	const struct span_bucket *top = NULL;

	if (kind * 2 <= sp->samples)
		return NULL;
	for (int i = 0; i < sp->nbuckets; i++)
		if (count(&sp->buckets[i]) && (!top || count(&sp->buckets[i]) > count(top)))
			top = &sp->buckets[i];
	return top;
}

const struct span_bucket *span_profile_gil(const struct span_profile *sp)
{
	return majority_bucket(sp, sp->gil_samples, gil_count_of);
}

const struct span_bucket *span_profile_lock(const struct span_profile *sp)
{
	return majority_bucket(sp, sp->lock_samples, lock_count_of);
}

void span_profile_free(struct span_profile *sp)
{
	for (int i = 0; i < SPAN_MAX_BUCKETS; i++)
		stall_sample_free(&sp->buckets[i].sample);
	memset(sp, 0, sizeof(*sp));
}
