/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "code.h"
#include "errors.h"
#include "hashtab.h"
#include "intern.h"
#include "pyproc.h"

#define CODE_HEADER_MAX 512       /* bytes of PyCodeObject we copy */
#define LINETABLE_MAX (1 << 20)   /* a larger line table is not believed */
#define NAME_MAX_LEN 256
#define FILE_MAX_LEN 1024

struct code_cache {
	struct hashtab codes;  /* entries: struct code_info, keyed by address */
};

struct code_cache *code_cache_new(void)
{
	struct code_cache *c = calloc(1, sizeof(*c));

	if (c && hashtab_init(&c->codes, sizeof(struct code_info), 1024)) {
		free(c);
		return NULL;
	}
	return c;
}

void code_cache_free(struct code_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->codes.cap; i++) {
		struct code_info *ci = hashtab_slot(&c->codes, i);

		if (ci)
			free(ci->linetable);
	}
	hashtab_done(&c->codes);
	free(c);
}

static bool same_code(const void *entry, const void *key)
{
	return ((const struct code_info *)entry)->addr == *(const uint64_t *)key;
}

static size_t header_size(const struct cpy_layout *L)
{
	int end = L->co_code_adaptive > 0 ? L->co_code_adaptive : L->co_linetable + 8;

	return end > CODE_HEADER_MAX ? CODE_HEADER_MAX : (size_t)end;
}

static int fill_info(struct py_proc *p, struct code_info *ci, const char *hdr, size_t size)
{
	const struct cpy_layout *L = &p->L;
	uint64_t name_obj = L->co_qualname >= 0 ? field_ptr(hdr, size, L->co_qualname)
						 : field_ptr(hdr, size, L->co_name);
	char name[NAME_MAX_LEN], file[FILE_MAX_LEN];
	int err;

	ci->filename_obj = field_ptr(hdr, size, L->co_filename);
	ci->name_obj = name_obj;
	ci->firstlineno = field_i32(hdr, size, L->co_firstlineno);
	ci->firsttraceable = L->co_firsttraceable >= 0 ? field_i32(hdr, size, L->co_firsttraceable) : 0;
	err = py_read_str(p, ci->filename_obj, file, sizeof(file));
	if (err)
		return err;
	err = py_read_str(p, name_obj, name, sizeof(name));
	if (err)
		return err;
	ci->file = intern_str(p->strings, file);
	intern_str(p->code_files, file);
	ci->func = intern_str(p->strings, name);
	return py_read_bytes(p, field_ptr(hdr, size, L->co_linetable), &ci->linetable,
			     &ci->linetable_len, LINETABLE_MAX);
}

const struct code_info *code_get(struct py_proc *p, uint64_t addr, int *err)
{
	struct code_cache *c = p->codes;
	char hdr[CODE_HEADER_MAX];
	size_t size = header_size(&p->L);
	struct code_info fresh = { .addr = addr }, *ci;
	bool added;

	*err = remote_read(&p->mem, addr, hdr, size);
	if (*err)
		return NULL;
	if (p->types.code && field_ptr(hdr, size, p->L.ob_type) != p->types.code) {
		*err = -LS_EBADDATA;
		return NULL;
	}
	ci = hashtab_find(&c->codes, addr, &addr, same_code);
	if (ci) {
		uint64_t name_obj = field_ptr(hdr, size, p->L.co_qualname >= 0 ? p->L.co_qualname
									: p->L.co_name);

		if (ci->filename_obj == field_ptr(hdr, size, p->L.co_filename) &&
		    ci->name_obj == name_obj &&
		    ci->firstlineno == field_i32(hdr, size, p->L.co_firstlineno))
			return ci;
		/* freed and reused for another code object: read it again */
	}
	*err = fill_info(p, &fresh, hdr, size);
	if (!*err && !ci && !(ci = hashtab_get(&c->codes, addr, &addr, same_code, &added)))
		*err = -ENOMEM;
	if (*err) {
		free(fresh.linetable);
		return NULL;
	}
	free(ci->linetable);
	*ci = fresh;
	return ci;
}

/* 3.10: (offset delta, line delta) byte pairs; -128 marks "no line". */
static int line_310(const struct code_info *ci, int offset)
{
	int line = ci->firstlineno, end = 0;

	for (size_t i = 0; i + 1 < ci->linetable_len; i += 2) {
		int start = end;
		int ldelta = (int8_t)ci->linetable[i + 1];
		int cur;

		end += ci->linetable[i];
		if (ldelta == -128) {
			cur = -1;
		} else {
			line += ldelta;
			cur = line;
		}
		if (start <= offset && offset < end)
			return cur;
	}
	return -1;
}

static unsigned int read_varint(const uint8_t *t, size_t len, size_t *i)
{
	unsigned int val = 0, shift = 0, b;

	do {
		if (*i >= len || shift > 28)
			return val;
		b = t[(*i)++];
		val |= (b & 63) << shift;
		shift += 6;
	} while (b & 64);
	return val;
}

static int read_svarint(const uint8_t *t, size_t len, size_t *i)
{
	unsigned int v = read_varint(t, len, i);

	return (v & 1) ? -(int)(v >> 1) : (int)(v >> 1);
}

/* The line delta of one 3.11+ location entry (Objects/locations.md). */
static int entry_line_delta(const uint8_t *t, size_t len, size_t at)
{
	int code = (t[at] >> 3) & 15;
	size_t i = at + 1;

	switch (code) {
	case 13: /* no columns */
	case 14: /* long form */
		return read_svarint(t, len, &i);
	case 11:
		return 1;
	case 12:
		return 2;
	default:  /* 0-10: same line; 15: no location */
		return 0;
	}
}

static int line_311(const struct code_info *ci, int offset)
{
	const uint8_t *t = ci->linetable;
	size_t len = ci->linetable_len, i = 0;
	int line = ci->firstlineno, end = 0;

	while (i < len) {
		int start = end;
		bool no_line = (t[i] >> 3) == 0x1f;

		line += entry_line_delta(t, len, i);
		end += ((t[i] & 7) + 1) * 2;
		do {
			i++;
		} while (i < len && !(t[i] & 128));
		if (start <= offset && offset < end)
			return no_line ? -1 : line;
	}
	return -1;
}

int code_instr_unit(const struct cpy_layout *L, uint64_t code, uint64_t instr)
{
	uint64_t first = code + (uint64_t)L->co_code_adaptive;

	if (instr < first)
		return instr + 2 == first ? -1 : CODE_MAX_UNITS; /* one before: not started */
	return instr - first >= 2ULL * CODE_MAX_UNITS ? CODE_MAX_UNITS : (int)((instr - first) / 2);
}

int code_unit_offset(int64_t unit)
{
	if (unit < 0)
		return -1;
	return unit >= CODE_MAX_UNITS ? 2 * CODE_MAX_UNITS : (int)(unit * 2);
}

int code_line(const struct py_proc *p, const struct code_info *ci, int offset)
{
	/* the memo is this file's own: ci lives in its cache */
	struct code_info *memo = (struct code_info *)ci;

	if (offset < 0)
		return ci->firstlineno;
	if (offset + 1 == ci->memo_offset)
		return ci->memo_line;
	memo->memo_line = p->minor >= 11 ? line_311(ci, offset) : line_310(ci, offset);
	memo->memo_offset = offset + 1;
	return ci->memo_line;
}
