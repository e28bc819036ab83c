#include <stddef.h>
#include "aio_layout.h"
#include "layout.h"

static const struct cpy_layout *const layouts[] = {
	&cpy_layout_3_10, &cpy_layout_3_11, &cpy_layout_3_12, &cpy_layout_3_13,
};

const struct cpy_layout *cpy_layout_lookup(int major, int minor)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i]->major == major && layouts[i]->minor == minor)
			return layouts[i];
	return NULL;
}

const char *cpy_layout_supported(void)
{
	return "3.10, 3.11, 3.12, 3.13";
}

static const struct cpy_aio_layout *const aio_layouts[] = {
	&cpy_aio_layout_3_10, &cpy_aio_layout_3_11, &cpy_aio_layout_3_12, &cpy_aio_layout_3_13,
};

const struct cpy_aio_layout *cpy_aio_layout_lookup(int major, int minor)
{
	if (major != 3 || minor < 10 || minor > 13)
		return NULL;
	return aio_layouts[minor - 10];
}
