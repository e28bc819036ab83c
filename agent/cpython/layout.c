/* SPDX-License-Identifier: GPL-2.0-only */
#include <stddef.h>
#include "aio_layout.h"
#include "layout.h"

/* One entry per line of versions.def: both tables of a version. */
static const struct version {
	const struct cpy_layout *L;
	const struct cpy_aio_layout *A;
} versions[] = {
#define PY_VERSION(maj, min) { &cpy_layout_##maj##_##min, &cpy_aio_layout_##maj##_##min },
#include "versions.def"
};

static const struct version *version_of(int major, int minor)
{
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (versions[i].L->major == major && versions[i].L->minor == minor)
			return &versions[i];
	return NULL;
}

const struct cpy_layout *cpy_layout_lookup(int major, int minor)
{
	const struct version *v = version_of(major, minor);

	return v ? v->L : NULL;
}

const struct cpy_aio_layout *cpy_aio_layout_lookup(int major, int minor)
{
	const struct version *v = version_of(major, minor);

	return v ? v->A : NULL;
}

/* ", 3.10, 3.11, ...": the list without its leading ", ". */
static const char supported[] =
#define PY_VERSION(maj, min) ", " #maj "." #min
#include "versions.def"
	;

const char *cpy_layout_supported(void)
{
	return supported + 2;
}
