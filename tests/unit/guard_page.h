/* SPDX-License-Identifier: GPL-2.0-only */
/* A readable page with an inaccessible one (PROT_NONE) right after it, in
 * the test's own memory: reads that end at, or cross into, a page boundary. */
#ifndef LOOPSCOPE_UNIT_GUARD_PAGE_H
#define LOOPSCOPE_UNIT_GUARD_PAGE_H

#include <stdint.h>
#include <sys/mman.h>

#define GUARD_PAGE 4096

/* GUARD_PAGE readable bytes (zeroed), then a page that faults; NULL on error. */
static inline uint8_t *guard_page_new(void)
{
	uint8_t *p = mmap(NULL, 2 * GUARD_PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + GUARD_PAGE, GUARD_PAGE, PROT_NONE)) {
		munmap(p, 2 * GUARD_PAGE);
		return NULL;
	}
	return p;
}

static inline void guard_page_free(uint8_t *p)
{
	if (p)
		munmap(p, 2 * GUARD_PAGE);
}

static inline uint64_t addr_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

#endif
