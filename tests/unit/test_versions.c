/* SPDX-License-Identifier: GPL-2.0-only */
/* The version registry (agent/cpython/versions.def): every version it
 * lists has both tables, each made for that version, and the lookups and
 * the supported-versions message say the same. */
#include <stdio.h>
#include "aio_layout.h"
#include "layout.h"
#include "unit.h"

static const struct { int major, minor; } listed[] = {
#define PY_VERSION(maj, min) { maj, min },
#include "versions.def"
};
#define NLISTED (sizeof(listed) / sizeof(listed[0]))

static void test_every_listed_version_has_its_tables(void)
{
	for (size_t i = 0; i < NLISTED; i++) {
		const struct cpy_layout *L = cpy_layout_lookup(listed[i].major, listed[i].minor);

		CHECK(L != NULL);
		CHECK(cpy_aio_layout_lookup(listed[i].major, listed[i].minor) != NULL);
		if (!L)
			continue;
		CHECK_EQ_INT(L->major, listed[i].major);
		CHECK_EQ_INT(L->minor, listed[i].minor);
	}
}

static void test_unlisted_versions_have_none(void)
{
	CHECK(cpy_layout_lookup(2, 7) == NULL);
	CHECK(cpy_layout_lookup(3, 9) == NULL);
	CHECK(cpy_aio_layout_lookup(3, 9) == NULL);
	CHECK(cpy_layout_lookup(listed[NLISTED - 1].major, listed[NLISTED - 1].minor + 1) == NULL);
}

static void test_supported_message_names_every_version(void)
{
	char want[256] = "";
	size_t at = 0;

	for (size_t i = 0; i < NLISTED; i++)
		at += (size_t)snprintf(want + at, sizeof(want) - at, "%s%d.%d", i ? ", " : "",
				       listed[i].major, listed[i].minor);
	CHECK_EQ_STR(cpy_layout_supported(), want);
}

int main(void)
{
	RUN(test_every_listed_version_has_its_tables);
	RUN(test_unlisted_versions_have_none);
	RUN(test_supported_message_names_every_version);
	return unit_done();
}
