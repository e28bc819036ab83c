/* SPDX-License-Identifier: GPL-2.0-only */
/* span_profile (stall_sampler.c), through its public API: the stack
 * samples of one busy span grouped by identical stack and task, the most
 * frequent one, and the GIL holder when most samples saw one. */
#include "intern.h"
#include "stall_sampler.h"
#include "unit.h"

static struct intern *names;
/* The profile under test and the caller's reusable sample, emptied by
 * RUN_SPAN after each test. */
static struct span_profile sp;
static struct stall_sample s;

/* A two-frame stack, innermost func:line, then <module>:1; a task when
 * task is not 0; with a holder, the holder's one-frame stack. */
static void set_sample(struct stall_sample *s, const char *func, int line, uint64_t task,
		       pid_t holder)
{
	const char *file = intern_str(names, "app.py");

	py_stack_clear(&s->stack);
	py_stack_clear(&s->holder_stack);
	py_stack_push(&s->stack, intern_str(names, func), file, line, 0x1000);
	py_stack_push(&s->stack, intern_str(names, "<module>"), file, 1, 0x2000);
	s->has_task = task != 0;
	s->task = (struct py_task_ref){ .addr = task };
	s->gil_holder = holder;
	if (holder)
		py_stack_push(&s->holder_stack, intern_str(names, "worker"), file, 99, 0x3000);
}

/* Adds that sample `times` times. */
static void add(const char *func, int line, uint64_t task, pid_t holder, int times)
{
	set_sample(&s, func, line, task, holder);
	for (int i = 0; i < times; i++)
		span_profile_add(&sp, &s);
}

static const char *top_func(const struct span_bucket *b)
{
	return b && b->sample.stack.depth ? b->sample.stack.frames[0].func : "(none)";
}

static void test_empty_profile(void)
{
	span_profile_reset(&sp, span_key_of(12, 5000));
	CHECK_EQ_INT(sp.key.tid, 12);
	CHECK_EQ_INT(sp.key.start, 5000);
	CHECK(span_profile_top(&sp) == NULL);
	CHECK(span_profile_gil(&sp) == NULL);
}

static void test_most_frequent_stack(void)
{
	const struct span_bucket *top;

	add("fetch", 10, 0, 0, 1);
	add("dumps", 20, 0, 0, 3);
	add("fetch", 10, 0, 0, 1);
	top = span_profile_top(&sp);
	CHECK_EQ_INT(sp.samples, 5);
	CHECK_EQ_INT(sp.nbuckets, 2);
	CHECK_EQ_STR(top_func(top), "dumps");
	CHECK(top && top->count == 3 && top->sample.stack.depth == 2);
	CHECK(span_profile_gil(&sp) == NULL);
}

/* Same frames but another line, another task, or no task: another reading. */
static void test_what_makes_a_reading(void)
{
	add("fetch", 10, 0xa0, 0, 1);
	add("fetch", 10, 0xa0, 0, 1);
	CHECK_EQ_INT(sp.nbuckets, 1);
	add("fetch", 11, 0xa0, 0, 1);
	add("fetch", 10, 0xb0, 0, 1);
	add("fetch", 10, 0, 0, 1);
	CHECK_EQ_INT(sp.nbuckets, 4);
	CHECK_EQ_INT(sp.buckets[0].count, 2);
	CHECK(sp.buckets[0].sample.has_task && sp.buckets[0].sample.task.addr == 0xa0);
}

/* A bucket keeps its own copy: the caller reuses its sample. */
static void test_buckets_copy_the_sample(void)
{
	add("fetch", 10, 0, 0, 1);
	set_sample(&s, "other", 77, 0, 0);
	CHECK_EQ_STR(top_func(span_profile_top(&sp)), "fetch");
	CHECK_EQ_INT(sp.buckets[0].sample.stack.frames[0].line, 10);
	CHECK(sp.buckets[0].sample.stack.frames != s.stack.frames);
}

/* Past SPAN_MAX_BUCKETS distinct readings, new ones are counted as samples
 * only; the readings already kept still count. */
static void test_too_many_readings(void)
{
	for (int i = 0; i < SPAN_MAX_BUCKETS + 4; i++)
		add("step", 100 + i, 0, 0, 1);
	add("step", 100, 0, 0, 2);
	CHECK_EQ_INT(sp.nbuckets, SPAN_MAX_BUCKETS);
	CHECK_EQ_INT(sp.samples, SPAN_MAX_BUCKETS + 6);
	CHECK(span_profile_top(&sp) && span_profile_top(&sp)->count == 3);
}

/* The GIL holder is named only when most samples saw one. */
static void test_gil_holder_majority(void)
{
	const struct span_bucket *gil;

	add("select", 5, 0, 0, 2);
	add("take_gil", 7, 0, 4242, 2);
	CHECK(span_profile_gil(&sp) == NULL);           /* half is not most */
	add("take_gil", 7, 0, 4242, 1);
	gil = span_profile_gil(&sp);
	CHECK_EQ_INT(sp.gil_samples, 3);
	CHECK_EQ_STR(top_func(gil), "take_gil");
	CHECK(gil && gil->gil_count == 3 && gil->sample.gil_holder == 4242);
	CHECK(gil && gil->sample.holder_stack.depth == 1 &&
	      !strcmp(gil->sample.holder_stack.frames[0].func, "worker"));
}

/* A reading first seen without a holder learns it from a later sample. */
static void test_gil_holder_learned_later(void)
{
	const struct span_bucket *gil;

	add("take_gil", 7, 0, 0, 1);
	add("take_gil", 7, 0, 77, 2);
	gil = span_profile_gil(&sp);
	CHECK_EQ_INT(sp.nbuckets, 1);
	CHECK(gil && gil->count == 3 && gil->gil_count == 2);
	CHECK(gil && gil->sample.gil_holder == 77 && gil->sample.holder_stack.depth == 1);
}

/* Adds `times` samples of a wait on the futex at addr, not the GIL's. */
static void add_lock_wait(const char *func, uint64_t addr, int times)
{
	set_sample(&s, func, 3, 0, 0);
	s.wait = STALL_WAIT_LOCK;
	s.futex = addr;
	for (int i = 0; i < times; i++)
		span_profile_add(&sp, &s);
	s.wait = STALL_WAIT_NONE;
	s.futex = 0;
}

/* A lock wait is named only when most samples saw one, with the futex of
 * the reading that saw it most; it is never a GIL wait. */
static void test_lock_wait_majority(void)
{
	const struct span_bucket *lock;

	add("select", 5, 0, 0, 2);
	add_lock_wait("acquire", 0x7f00beef, 2);
	CHECK(span_profile_lock(&sp) == NULL);          /* half is not most */
	add_lock_wait("acquire", 0x7f00dead, 1);
	lock = span_profile_lock(&sp);
	CHECK_EQ_INT(sp.lock_samples, 3);
	CHECK(span_profile_gil(&sp) == NULL);
	CHECK_EQ_STR(top_func(lock), "acquire");
	CHECK(lock && lock->lock_count == 3 && lock->sample.futex == 0x7f00beef);
	CHECK(lock && lock->sample.wait == STALL_WAIT_LOCK && lock->sample.gil_holder == 0);
}

/* A reset starts the next span; the buckets' memory is reused. */
static void test_reset_between_spans(void)
{
	span_profile_reset(&sp, span_key_of(1, 100));
	add("fetch", 10, 0xa0, 9, 4);
	span_profile_reset(&sp, span_key_of(2, 200));
	CHECK_EQ_INT(sp.key.tid, 2);
	CHECK_EQ_INT(sp.samples, 0);
	CHECK_EQ_INT(sp.gil_samples, 0);
	CHECK(span_profile_top(&sp) == NULL);
	add("dumps", 20, 0, 0, 1);
	CHECK_EQ_STR(top_func(span_profile_top(&sp)), "dumps");
	CHECK(sp.buckets[0].count == 1 && sp.buckets[0].gil_count == 0);
	CHECK(!sp.buckets[0].sample.has_task && sp.buckets[0].sample.gil_holder == 0);
	span_profile_free(&sp);
	CHECK(sp.nbuckets == 0 && sp.samples == 0 && sp.buckets[0].sample.stack.frames == NULL);
}

#define RUN_SPAN(fn) do { \
	RUN(fn); \
	span_profile_free(&sp); \
	stall_sample_free(&s); \
} while (0)

/* Torn readings (stack.partial) lose to a whole one however many they
 * are, and give up their buckets to whole ones once every bucket is
 * taken: a generator-heavy CPU stall is mostly torn samples. */
static void test_whole_stacks_beat_torn_ones(void)
{
	for (int i = 0; i < SPAN_MAX_BUCKETS; i++) {
		set_sample(&s, "_iterencode_list", 300 + i, 0, 0);
		s.stack.partial = true;
		for (int k = 0; k < 3; k++)
			span_profile_add(&sp, &s);
	}
	CHECK_EQ_INT(sp.nbuckets, SPAN_MAX_BUCKETS);
	add("build_report", 87, 0xa0, 0, 1);
	CHECK_EQ_STR(top_func(span_profile_top(&sp)), "build_report");
	CHECK(!span_profile_top(&sp)->sample.stack.partial);
	CHECK_EQ_INT(span_profile_top(&sp)->count, 1);
	CHECK_EQ_INT(sp.nbuckets, SPAN_MAX_BUCKETS);
	s.stack.partial = false;
}

/* Adds, `times` times, the stack of funcs (innermost first, each at line
 * 10 + its index, then encode:200 and <module>:1). */
static void add_under_encode(const char **funcs, int n, int times)
{
	const char *file = intern_str(names, "app.py");

	py_stack_clear(&s.stack);
	py_stack_clear(&s.holder_stack);
	for (int i = 0; i < n; i++)
		py_stack_push(&s.stack, intern_str(names, funcs[i]), file, 10 + i, 0);
	py_stack_push(&s.stack, intern_str(names, "encode"), file, 200, 0);
	py_stack_push(&s.stack, intern_str(names, "<module>"), file, 1, 0);
	s.has_task = false;
	s.gil_holder = 0;
	for (int i = 0; i < times; i++)
		span_profile_add(&sp, &s);
}

/* Generators spread their time over distinct deep stacks; the moments a
 * C consumer runs between them all read as one shallow stack. The report
 * follows the hot path down while what runs under a reading outweighs it. */
static void test_hot_path_under_a_consumer(void)
{
	const char *a[] = { "_iterencode_list", "_iterencode_dict", "_iterencode" };
	const char *b[] = { "_iterencode_dict", "_iterencode_list", "_iterencode_dict", "_iterencode" };
	const char *c[] = { "_iterencode_dict", "_iterencode" };
	const struct span_bucket *top;

	add_under_encode(NULL, 0, 5);  /* encode in list(): the shallow one */
	add_under_encode(a, 3, 2);
	add_under_encode(b, 4, 3);
	add_under_encode(c, 2, 1);
	top = span_profile_top(&sp);
	CHECK_EQ_STR(top_func(top), "_iterencode_dict");
	CHECK(top && top->sample.stack.depth == 6 && top->count == 3);
	span_profile_reset(&sp, span_key_of(1, 1));
	add_under_encode(NULL, 0, 5);  /* what runs under it is less: it stays */
	add_under_encode(a, 3, 2);
	add_under_encode(b, 4, 2);
	top = span_profile_top(&sp);
	CHECK_EQ_STR(top_func(top), "encode");
}

int main(void)
{
	names = intern_new();
	RUN_SPAN(test_empty_profile);
	RUN_SPAN(test_most_frequent_stack);
	RUN_SPAN(test_what_makes_a_reading);
	RUN_SPAN(test_buckets_copy_the_sample);
	RUN_SPAN(test_too_many_readings);
	RUN_SPAN(test_gil_holder_majority);
	RUN_SPAN(test_gil_holder_learned_later);
	RUN_SPAN(test_lock_wait_majority);
	RUN_SPAN(test_reset_between_spans);
	RUN_SPAN(test_whole_stacks_beat_torn_ones);
	RUN_SPAN(test_hot_path_under_a_consumer);
	intern_free(names);
	return unit_done();
}
