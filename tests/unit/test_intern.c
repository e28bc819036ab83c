/* SPDX-License-Identifier: GPL-2.0-only */
/* intern: one copy of each string, equal strings as equal pointers. */
#include <stdio.h>
#include "intern.h"
#include "unit.h"

static void test_equal_strings_share_one_copy(void)
{
	struct intern *t = intern_new();
	char a[] = "Task-1", b[] = "Task-1";
	const char *x = intern_str(t, a), *y = intern_str(t, b);

	CHECK(x == y);
	CHECK(x != a && x != b);
	CHECK_EQ_STR(x, "Task-1");
	CHECK(intern_str(t, "Task-2") != x);
	intern_free(t);
}

static void test_many_strings_survive_growth(void)
{
	struct intern *t = intern_new();
	const char *first[5000];
	char buf[32];

	for (int i = 0; i < 5000; i++) {
		snprintf(buf, sizeof(buf), "name-%d", i);
		first[i] = intern_str(t, buf);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(buf, sizeof(buf), "name-%d", i);
		CHECK(intern_str(t, buf) == first[i]);
		CHECK_EQ_STR(first[i], buf);
	}
	intern_free(t);
}

static void test_empty_string(void)
{
	struct intern *t = intern_new();

	CHECK_EQ_STR(intern_str(t, ""), "");
	CHECK(intern_str(t, "") == intern_str(t, ""));
	intern_free(t);
}

/* A string and its prefixes are different strings. */
static void test_prefixes_are_distinct(void)
{
	struct intern *t = intern_new();
	const char *full = intern_str(t, "asyncio.tasks"), *pre = intern_str(t, "asyncio");

	CHECK(full != pre);
	CHECK_EQ_STR(full, "asyncio.tasks");
	CHECK_EQ_STR(pre, "asyncio");
	CHECK(intern_str(t, "asyncio.tasks") == full);
	intern_free(t);
}

/* No table (intern_new failed): a placeholder, never a crash. */
static void test_no_table(void)
{
	CHECK_EQ_STR(intern_str(NULL, "x"), "?");
	intern_free(NULL);
}

/* A string asked for in each generation keeps its one copy; the last
 * generation's strings survive the next one; older ones are freed. */
static void test_generations_free_what_is_not_asked_again(void)
{
	struct intern *t = intern_new();
	const char *kept = intern_str(t, "Task-1"), *gone = intern_str(t, "req-1");

	intern_next_generation(t, 2);
	CHECK(intern_count(t) == 2);  /* the last generation's: still valid */
	CHECK_EQ_STR(gone, "req-1");
	CHECK(intern_str(t, "Task-1") == kept);
	intern_next_generation(t, 2);
	CHECK(intern_count(t) == 1);
	CHECK(intern_str(t, "Task-1") == kept);
	CHECK_EQ_STR(kept, "Task-1");
	intern_free(t);
}

/* 200,000 unique names over 2,000 generations: the table holds the last
 * two generations' names, not every name it was ever asked for. */
static void test_unique_names_stay_bounded(void)
{
	struct intern *t = intern_new();
	char buf[32];
	size_t most = 0;

	for (int g = 0; g < 2000; g++) {
		for (int i = 0; i < 100; i++) {
			snprintf(buf, sizeof(buf), "req-%d", g * 100 + i);
			CHECK_EQ_STR(intern_str(t, buf), buf);
		}
		CHECK_EQ_STR(intern_str(t, "main"), "main");
		if (intern_count(t) > most)
			most = intern_count(t);
		intern_next_generation(t, 2);
	}
	CHECK(most <= 201);
	intern_free(t);
}

int main(void)
{
	RUN(test_generations_free_what_is_not_asked_again);
	RUN(test_unique_names_stay_bounded);
	RUN(test_equal_strings_share_one_copy);
	RUN(test_many_strings_survive_growth);
	RUN(test_empty_string);
	RUN(test_prefixes_are_distinct);
	RUN(test_no_table);
	return unit_done();
}
