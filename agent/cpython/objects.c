/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading basic Python objects out of target memory: str, bytes, int,
 * float, and the names of types. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "errors.h"
#include "pyproc.h"

#define OBJ_HEADER_MAX 128

uint64_t py_type_of(struct py_proc *p, uint64_t obj)
{
	uint64_t type = 0;

	if (remote_read_ptr(&p->mem, obj + (uint64_t)p->L.ob_type, &type))
		return 0;
	return type;
}

size_t py_type_chain(struct py_proc *p, uint64_t type, uint64_t *chain, size_t max)
{
	size_t n = 0;

	if (max > PY_MAX_BASES)
		max = PY_MAX_BASES;
	while (type && n < max) {
		chain[n++] = type;
		if (remote_read_ptr(&p->mem, type + (uint64_t)p->L.tp_base, &type))
			break;
	}
	return n;
}

bool py_type_is_subtype(struct py_proc *p, uint64_t type, uint64_t base)
{
	uint64_t chain[PY_MAX_BASES];
	size_t n = py_type_chain(p, type, chain, PY_MAX_BASES);

	for (size_t i = 0; i < n; i++)
		if (chain[i] == base)
			return true;
	return false;
}

/* A C string of the target: read page by page, so that one ending right
 * before an unmapped page is read, and one crossing into the next page is
 * read whole. */
int py_read_cstr(struct py_proc *p, uint64_t addr, char *buf, size_t len)
{
	size_t got = 0;

	while (got + 1 < len) {
		size_t room = len - 1 - got;
		size_t to_page = 4096 - ((addr + got) & 4095);
		size_t n = room < to_page ? room : to_page;
		int err = remote_read(&p->mem, addr + got, buf + got, n);

		if (err) {
			buf[got] = 0;
			return got ? 0 : err;
		}
		if (memchr(buf + got, 0, n))
			return 0;
		got += n;
	}
	buf[len - 1] = 0;
	return 0;
}

int py_type_name(struct py_proc *p, uint64_t obj, char *buf, size_t len)
{
	uint64_t type = py_type_of(p, obj), name;
	int err;

	if (!type || !len)
		return -EFAULT;
	err = remote_read_ptr(&p->mem, type + (uint64_t)p->L.tp_name, &name);
	if (err)
		return err;
	buf[0] = 0;
	err = py_read_cstr(p, name, buf, len > 256 ? 256 : len);
	buf[len - 1] = 0;
	return err;
}

/* Appends code point cp as UTF-8 if it fits; false when full. What UTF-8
 * cannot carry comes out as Python's "backslashreplace" writes it: a lone
 * surrogate (a surrogateescape'd file name, a garbage name) as "\udc80",
 * so the text stays valid UTF-8 for JSON and says what was there. */
static bool put_utf8(char *buf, size_t len, size_t *at, uint32_t cp)
{
	char tmp[11];
	size_t n;

	if (cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		tmp[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		tmp[0] = (char)(0xc0 | (cp >> 6));
		tmp[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp >= 0xd800 && cp <= 0xdfff) {
		n = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", cp);
	} else if (cp < 0x10000) {
		tmp[0] = (char)(0xe0 | (cp >> 12));
		tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		tmp[0] = (char)(0xf0 | (cp >> 18));
		tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (*at + n >= len)
		return false;
	memcpy(buf + *at, tmp, n);
	*at += n;
	return true;
}

static uint32_t code_point(const uint8_t *data, int kind, size_t i)
{
	if (kind == 1)
		return data[i];
	if (kind == 2) {
		uint16_t v;

		memcpy(&v, data + 2 * i, 2);
		return v;
	}
	uint32_t v;

	memcpy(&v, data + 4 * i, 4);
	return v;
}

size_t py_decode_units(const void *data, int kind, size_t n, char *buf, size_t len)
{
	size_t at = 0;

	if (!len)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!put_utf8(buf, len, &at, code_point(data, kind, i)))
			break;
	buf[at] = 0;
	return at;
}

int py_read_str(struct py_proc *p, uint64_t obj, char *buf, size_t len)
{
	const struct cpy_layout *L = &p->L;
	uint8_t hdr[OBJ_HEADER_MAX], *data;
	/* the PyASCIIObject header every str has: a short compact ASCII str
	 * may end right after its characters, at the end of a mapping */
	size_t hsize = (size_t)L->u_ascii_size, chars;
	uint64_t addr;
	uint32_t state;
	int64_t length;
	int kind, err;

	if (!len)
		return -EINVAL;
	buf[0] = 0;
	err = remote_read(&p->mem, obj, hdr, hsize);
	if (err)
		return err;
	if (p->types.unicode && field_ptr(hdr, hsize, L->ob_type) != p->types.unicode)
		return -LS_EBADDATA;
	length = field_i64(hdr, hsize, L->u_length);
	state = (uint32_t)field_i32(hdr, hsize, L->u_state);
	kind = (state >> 2) & 7;
	if (length < 0 || (kind != 1 && kind != 2 && kind != 4))
		return -LS_EBADDATA;
	if (!((state >> 5) & 1)) {                  /* legacy, not compact: data pointer */
		hsize = (size_t)L->u_compact_size + 8;
		err = remote_read(&p->mem, obj, hdr, hsize);
		if (err)
			return err;
		addr = field_ptr(hdr, hsize, L->u_compact_size);
	} else if ((state >> 6) & 1) {              /* compact ASCII */
		addr = obj + (uint64_t)L->u_ascii_size;
	} else {
		addr = obj + (uint64_t)L->u_compact_size;
	}
	chars = (size_t)length < len ? (size_t)length : len - 1;
	data = malloc(chars * (size_t)kind + 1);
	if (!data)
		return -ENOMEM;
	err = remote_read(&p->mem, addr, data, chars * (size_t)kind);
	if (!err)
		py_decode_units(data, kind, chars, buf, len);
	free(data);
	return err;
}

int py_read_bytes(struct py_proc *p, uint64_t obj, uint8_t **out, size_t *len, size_t max)
{
	uint8_t hdr[OBJ_HEADER_MAX];
	size_t hsize = (size_t)p->L.bytes_sval;
	int64_t size;
	int err;

	*out = NULL;
	*len = 0;
	if (hsize > sizeof(hdr))
		return -LS_EBADDATA;
	err = remote_read(&p->mem, obj, hdr, hsize);
	if (err)
		return err;
	if (p->types.bytes && field_ptr(hdr, hsize, p->L.ob_type) != p->types.bytes)
		return -LS_EBADDATA;
	size = field_i64(hdr, hsize, p->L.ob_size);
	if (size < 0 || (size_t)size > max)
		return -LS_EBADDATA;
	*out = malloc((size_t)size + 1);
	if (!*out)
		return -ENOMEM;
	err = remote_read(&p->mem, obj + hsize, *out, (size_t)size);
	if (err) {
		free(*out);
		*out = NULL;
		return err;
	}
	*len = (size_t)size;
	return 0;
}

int py_read_long(struct py_proc *p, uint64_t obj, int64_t *out)
{
	uint8_t hdr[OBJ_HEADER_MAX];
	size_t hsize = (size_t)p->L.long_digits + 8;
	int64_t ndigits, value = 0;
	bool negative;
	uint32_t digits[2];
	int err;

	err = remote_read(&p->mem, obj, hdr, hsize);
	if (err)
		return err;
	if (p->L.long_tag >= 0) { /* 3.12+: lv_tag = ndigits << 3 | sign */
		uint64_t tag = (uint64_t)field_i64(hdr, hsize, p->L.long_tag);

		ndigits = (int64_t)(tag >> 3);
		negative = (tag & 3) == 2;
	} else {
		int64_t size = field_i64(hdr, hsize, p->L.ob_size);

		negative = size < 0;
		ndigits = negative ? -size : size;
	}
	if (ndigits > 2)
		return -ERANGE;
	memcpy(digits, hdr + p->L.long_digits, sizeof(digits));
	for (int64_t i = ndigits - 1; i >= 0; i--)
		value = (value << 30) | (digits[i] & 0x3fffffff);
	*out = negative ? -value : value;
	return 0;
}

int py_read_float(struct py_proc *p, uint64_t obj, double *out)
{
	return remote_read(&p->mem, obj + (uint64_t)p->L.float_value, out, sizeof(*out));
}
