/* SPDX-License-Identifier: GPL-2.0-only */
/* Fake CPython objects in the test's own memory, laid out by a version's
 * offset table, for the real readers to read through process_vm_readv on
 * getpid(): no Python process needed. */
#ifndef LOOPSCOPE_UNIT_FAKE_PY_H
#define LOOPSCOPE_UNIT_FAKE_PY_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "guard_page.h"
#include "pyproc.h"

/* Big enough for any header the readers copy (CODE_HEADER_MAX is 512). */
struct fake_obj {
	_Alignas(16) uint8_t b[640];
};

/* A py_proc reading this process with table L, no type checks. */
static inline void fake_proc_init(struct py_proc *p, const struct cpy_layout *L)
{
	memset(p, 0, sizeof(*p));
	p->pid = getpid();
	p->mem.pid = p->pid;
	p->L = *L;
	p->major = L->major;
	p->minor = L->minor;
}

static inline void fake_put(struct fake_obj *o, int off, const void *v, size_t n)
{
	memcpy(o->b + off, v, n);
}

static inline void fake_put_u64(struct fake_obj *o, int off, uint64_t v)
{
	fake_put(o, off, &v, sizeof(v));
}

static inline void fake_put_u32(struct fake_obj *o, int off, uint32_t v)
{
	fake_put(o, off, &v, sizeof(v));
}

/* A str of n code units of `kind` bytes. compact: the data follows the
 * header (at the ASCII or the compact header's end), else it is at `data`
 * (a legacy string, not compact). */
static inline uint64_t fake_str_at(struct fake_obj *o, const struct cpy_layout *L, int kind,
				   bool compact, bool ascii, const void *units, size_t n,
				   const void *data)
{
	uint32_t state = (uint32_t)kind << 2 | (uint32_t)compact << 5 | (uint32_t)ascii << 6;

	memset(o, 0, sizeof(*o));
	fake_put_u64(o, L->u_length, n);
	fake_put_u32(o, L->u_state, state);
	if (!compact)
		fake_put_u64(o, L->u_compact_size, addr_of(data));
	else
		fake_put(o, ascii ? L->u_ascii_size : L->u_compact_size, units, n * (size_t)kind);
	return addr_of(o);
}

/* A compact str; ASCII when kind is 1 and every unit is below 0x80. */
static inline uint64_t fake_str(struct fake_obj *o, const struct cpy_layout *L, int kind,
				const void *units, size_t n)
{
	bool ascii = kind == 1;

	for (size_t i = 0; ascii && i < n; i++)
		ascii = ((const uint8_t *)units)[i] < 0x80;
	return fake_str_at(o, L, kind, true, ascii, units, n, NULL);
}

static inline uint64_t fake_ascii(struct fake_obj *o, const struct cpy_layout *L, const char *s)
{
	return fake_str(o, L, 1, s, strlen(s));
}

static inline uint64_t fake_bytes(struct fake_obj *o, const struct cpy_layout *L,
				  const void *data, size_t n)
{
	memset(o, 0, sizeof(*o));
	fake_put_u64(o, L->ob_size, n);
	fake_put(o, L->bytes_sval, data, n);
	return addr_of(o);
}

#endif
