/* SPDX-License-Identifier: GPL-2.0-only */
/* objects.c: code units to UTF-8 (put_utf8 through py_decode_units), str
 * objects of every kind (compact ASCII, UCS1, UCS2, UCS4, legacy), C
 * strings at page boundaries, bytes, ints and floats, read from fake
 * objects in the test's own memory by the 3.11 and 3.12 tables (their str
 * headers differ). */
#include <errno.h>
#include <jansson.h>
#include "errors.h"
#include "fake_py.h"
#include "unit.h"

static const struct cpy_layout *const tables[] = { &cpy_layout_3_11, &cpy_layout_3_12 };
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static void test_utf8_length_boundaries(void)
{
	static const uint32_t cps[] = { 0x41, 0x7f, 0x80, 0x7ff, 0x800, 0xffff, 0x10000, 0x10ffff };
	char buf[64];

	CHECK_EQ_INT(py_decode_units(cps, 4, 8, buf, sizeof(buf)), 20);
	CHECK_EQ_STR(buf, "A\x7f" "\xc2\x80" "\xdf\xbf" "\xe0\xa0\x80" "\xef\xbf\xbf"
		     "\xf0\x90\x80\x80" "\xf4\x8f\xbf\xbf");
}

static void test_utf8_each_kind(void)
{
	static const uint8_t ucs1[] = { 'c', 'a', 'f', 0xe9 };
	static const uint16_t ucs2[] = { 0x416, 0x20ac };
	static const uint32_t ucs4[] = { 0x1f40d, 'x' };
	char buf[16];

	CHECK_EQ_INT(py_decode_units(ucs1, 1, 4, buf, sizeof(buf)), 5);
	CHECK_EQ_STR(buf, "caf\xc3\xa9");
	CHECK_EQ_INT(py_decode_units(ucs2, 2, 2, buf, sizeof(buf)), 5);
	CHECK_EQ_STR(buf, "\xd0\x96\xe2\x82\xac");
	CHECK_EQ_INT(py_decode_units(ucs4, 4, 2, buf, sizeof(buf)), 5);
	CHECK_EQ_STR(buf, "\xf0\x9f\x90\x8dx");
	CHECK_EQ_INT(py_decode_units(ucs1, 1, 0, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "");
}

/* A full buffer ends at a whole character, always NUL-terminated. */
static void test_utf8_cut_at_a_character(void)
{
	static const uint16_t zhe3[] = { 0x416, 0x416, 0x416 };
	char buf[8];

	memset(buf, 'z', sizeof(buf));
	CHECK_EQ_INT(py_decode_units(zhe3, 2, 3, buf, 6), 4);   /* 6 bytes need room for a NUL */
	CHECK_EQ_STR(buf, "\xd0\x96\xd0\x96");
	CHECK_EQ_INT(py_decode_units(zhe3, 2, 3, buf, 7), 6);
	CHECK_EQ_INT(py_decode_units("abc", 1, 3, buf, 1), 0);
	CHECK_EQ_STR(buf, "");
	buf[0] = 'z';
	CHECK_EQ_INT(py_decode_units("abc", 1, 3, buf, 0), 0);  /* nothing written */
	CHECK(buf[0] == 'z');
}

/* The output must be valid UTF-8, or jansson refuses the string and a
 * JSON frame disappears: a unit above U+10FFFF becomes U+FFFD (ef bf bd,
 * not an overlong 4-byte form); a lone surrogate (surrogateescape'd file
 * names: '\udce9') becomes backslashreplace text. */
static void test_utf8_output_is_valid(void)
{
	static const uint32_t big = 0x110000;
	static const uint16_t lone[] = { '/', 0xdce9 };
	char buf[16];
	json_t *j;

	py_decode_units(&big, 4, 1, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "\xef\xbf\xbd");
	py_decode_units(lone, 2, 2, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "/\\udce9");
	j = json_pack("{s:s}", "file", buf);
	CHECK(j != NULL);
	json_decref(j);
}

/* One str of each kind, read by each table. */
static void test_read_str_every_kind(void)
{
	static const uint8_t latin1[] = { 'c', 'a', 'f', 0xe9 };
	static const uint16_t ucs2[] = { 0x416, 0x20ac };
	static const uint32_t ucs4[] = { 'a', 0x1f40d };
	static struct fake_obj o;
	struct py_proc p;
	char buf[64];

	for (size_t t = 0; t < NTABLES; t++) {
		const struct cpy_layout *L = tables[t];

		fake_proc_init(&p, L);
		CHECK_EQ_INT(py_read_str(&p, fake_ascii(&o, L, "Task-12"), buf, sizeof(buf)), 0);
		CHECK_EQ_STR(buf, "Task-12");
		CHECK_EQ_INT(py_read_str(&p, fake_str(&o, L, 1, latin1, 4), buf, sizeof(buf)), 0);
		CHECK_EQ_STR(buf, "caf\xc3\xa9");
		CHECK_EQ_INT(py_read_str(&p, fake_str(&o, L, 2, ucs2, 2), buf, sizeof(buf)), 0);
		CHECK_EQ_STR(buf, "\xd0\x96\xe2\x82\xac");
		CHECK_EQ_INT(py_read_str(&p, fake_str(&o, L, 4, ucs4, 2), buf, sizeof(buf)), 0);
		CHECK_EQ_STR(buf, "a\xf0\x9f\x90\x8d");
		CHECK_EQ_INT(py_read_str(&p, fake_ascii(&o, L, ""), buf, sizeof(buf)), 0);
		CHECK_EQ_STR(buf, "");
	}
}

/* Not compact: the characters are behind the data pointer. */
static void test_read_str_legacy(void)
{
	static const uint16_t ucs2[] = { 'h', 0xe9, 0x416 };
	static struct fake_obj o;
	struct py_proc p;
	char buf[16];

	fake_proc_init(&p, &cpy_layout_3_11);
	fake_str_at(&o, &cpy_layout_3_11, 2, false, false, NULL, 3, ucs2);
	CHECK_EQ_INT(py_read_str(&p, addr_of(&o), buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "h\xc3\xa9\xd0\x96");
}

static void test_read_str_cut_to_buffer(void)
{
	static const uint16_t ucs2[] = { 0x416, 0x416, 0x416 };
	static struct fake_obj o;
	struct py_proc p;
	char buf[16];

	fake_proc_init(&p, &cpy_layout_3_12);
	CHECK_EQ_INT(py_read_str(&p, fake_ascii(&o, &cpy_layout_3_12, "Handler.run"), buf, 8), 0);
	CHECK_EQ_STR(buf, "Handler");
	CHECK_EQ_INT(py_read_str(&p, fake_str(&o, &cpy_layout_3_12, 2, ucs2, 3), buf, 6), 0);
	CHECK_EQ_STR(buf, "\xd0\x96\xd0\x96");
	CHECK_EQ_INT(py_read_str(&p, addr_of(&o), buf, 1), 0);
	CHECK_EQ_STR(buf, "");
	CHECK_EQ_INT(py_read_str(&p, addr_of(&o), buf, 0), -EINVAL);
}

static void test_read_str_rejects_bad_objects(void)
{
	static struct fake_obj o;
	const struct cpy_layout *L = &cpy_layout_3_11;
	uint8_t *page = guard_page_new();
	struct py_proc p;
	char buf[16];

	fake_proc_init(&p, L);
	fake_ascii(&o, L, "abc");
	fake_put_u32(&o, L->u_state, 0 << 2 | 1 << 5);     /* kind 0: not ready (3.10/3.11) */
	CHECK_EQ_INT(py_read_str(&p, addr_of(&o), buf, sizeof(buf)), -LS_EBADDATA);
	fake_put_u32(&o, L->u_state, 3 << 2 | 1 << 5);     /* no such kind */
	CHECK_EQ_INT(py_read_str(&p, addr_of(&o), buf, sizeof(buf)), -LS_EBADDATA);
	fake_ascii(&o, L, "abc");
	fake_put_u64(&o, L->u_length, (uint64_t)-1);
	CHECK_EQ_INT(py_read_str(&p, addr_of(&o), buf, sizeof(buf)), -LS_EBADDATA);

	/* with the str type known, only objects of that type are read */
	fake_ascii(&o, L, "abc");
	fake_put_u64(&o, L->ob_type, 0x5000);
	p.types.unicode = 0x6000;
	CHECK_EQ_INT(py_read_str(&p, addr_of(&o), buf, sizeof(buf)), -LS_EBADDATA);
	p.types.unicode = 0x5000;
	CHECK_EQ_INT(py_read_str(&p, addr_of(&o), buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "abc");

	CHECK(page != NULL);
	if (page)
		CHECK_EQ_INT(py_read_str(&p, addr_of(page + GUARD_PAGE), buf, sizeof(buf)), -EFAULT);
	guard_page_free(page);
}

/* py_read_str reads no more header than a compact ASCII str has, so a
 * short one that ends where readable memory ends is read. */
static void test_read_str_short_ascii_at_page_end(void)
{
	const struct cpy_layout *L = &cpy_layout_3_11;
	uint8_t *page = guard_page_new();
	struct py_proc p;
	char buf[16];
	uint8_t *obj;

	CHECK(page != NULL);
	if (!page)
		return;
	fake_proc_init(&p, L);
	obj = page + GUARD_PAGE - (L->u_ascii_size + 8);  /* "Task-1" + NUL, to the byte */
	memcpy(obj + L->u_length, &(int64_t){ 6 }, 8);
	memcpy(obj + L->u_state, &(uint32_t){ 1 << 2 | 1 << 5 | 1 << 6 }, 4);
	memcpy(obj + L->u_ascii_size, "Task-1", 7);
	CHECK_EQ_INT(py_read_str(&p, addr_of(obj), buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "Task-1");
	guard_page_free(page);
}

/* C strings are read page by page: one may end right before, or run
 * into, an unreadable page; one may cross into the next readable page. */
static void test_read_cstr_page_boundaries(void)
{
	static _Alignas(4096) char two[2 * 4096];
	uint8_t *page = guard_page_new();
	struct py_proc p;
	char buf[32];

	fake_proc_init(&p, &cpy_layout_3_11);
	memcpy(two + 4096 - 3, "across", 7);
	CHECK_EQ_INT(py_read_cstr(&p, addr_of(two + 4096 - 3), buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "across");
	CHECK_EQ_INT(py_read_cstr(&p, addr_of(two + 4096 - 3), buf, 4), 0);
	CHECK_EQ_STR(buf, "acr");

	CHECK(page != NULL);
	if (!page)
		return;
	memcpy(page + GUARD_PAGE - 4, "abc", 4);           /* the NUL is the page's last byte */
	CHECK_EQ_INT(py_read_cstr(&p, addr_of(page + GUARD_PAGE - 4), buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "abc");
	memcpy(page + GUARD_PAGE - 4, "abcd", 4);          /* no NUL before the fault: cut */
	CHECK_EQ_INT(py_read_cstr(&p, addr_of(page + GUARD_PAGE - 4), buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "abcd");
	CHECK_EQ_INT(py_read_cstr(&p, addr_of(page + GUARD_PAGE), buf, sizeof(buf)), -EFAULT);
	CHECK_EQ_STR(buf, "");
	guard_page_free(page);
}

static void test_type_name(void)
{
	static struct fake_obj obj, type;
	static const char name[] = "collections.deque";
	const struct cpy_layout *L = &cpy_layout_3_12;
	struct py_proc p;
	char buf[32];

	fake_proc_init(&p, L);
	memset(&type, 0, sizeof(type));
	fake_put_u64(&type, L->tp_name, addr_of(name));
	memset(&obj, 0, sizeof(obj));
	fake_put_u64(&obj, L->ob_type, addr_of(&type));
	CHECK(py_type_of(&p, addr_of(&obj)) == addr_of(&type));
	CHECK_EQ_INT(py_type_name(&p, addr_of(&obj), buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "collections.deque");
	CHECK_EQ_INT(py_type_name(&p, addr_of(&obj), buf, 6), 0);
	CHECK_EQ_STR(buf, "colle");
	fake_put_u64(&obj, L->ob_type, 0);
	CHECK_EQ_INT(py_type_name(&p, addr_of(&obj), buf, sizeof(buf)), -EFAULT);
}

static void test_read_bytes(void)
{
	static struct fake_obj o;
	const struct cpy_layout *L = &cpy_layout_3_13;
	struct py_proc p;
	uint8_t *out;
	size_t len;

	fake_proc_init(&p, L);
	CHECK_EQ_INT(py_read_bytes(&p, fake_bytes(&o, L, "\x81\x00\xf9", 3), &out, &len, 16), 0);
	CHECK_EQ_INT(len, 3);
	CHECK(out && !memcmp(out, "\x81\x00\xf9", 3));
	free(out);
	CHECK_EQ_INT(py_read_bytes(&p, fake_bytes(&o, L, "", 0), &out, &len, 16), 0);
	CHECK_EQ_INT(len, 0);
	free(out);
	CHECK_EQ_INT(py_read_bytes(&p, fake_bytes(&o, L, "abcd", 4), &out, &len, 3), -LS_EBADDATA);
	CHECK(out == NULL && len == 0);
	fake_put_u64(&o, L->ob_size, (uint64_t)-4);
	CHECK_EQ_INT(py_read_bytes(&p, addr_of(&o), &out, &len, 16), -LS_EBADDATA);
}

/* ints: 30-bit digits; the sign in ob_size up to 3.11, in lv_tag after. */
static void test_read_long(void)
{
	static struct fake_obj o;
	const struct cpy_layout *L11 = &cpy_layout_3_11, *L12 = &cpy_layout_3_12;
	uint32_t digits[2] = { 5, 1 };
	struct py_proc p;
	int64_t v = 99;

	fake_proc_init(&p, L11);
	memset(&o, 0, sizeof(o));
	fake_put(&o, L11->long_digits, digits, sizeof(digits));
	fake_put_u64(&o, L11->ob_size, 2);
	CHECK_EQ_INT(py_read_long(&p, addr_of(&o), &v), 0);
	CHECK_EQ_INT(v, (1LL << 30) + 5);
	fake_put_u64(&o, L11->ob_size, (uint64_t)-1);
	CHECK_EQ_INT(py_read_long(&p, addr_of(&o), &v), 0);
	CHECK_EQ_INT(v, -5);
	fake_put_u64(&o, L11->ob_size, 0);
	CHECK_EQ_INT(py_read_long(&p, addr_of(&o), &v), 0);
	CHECK_EQ_INT(v, 0);
	fake_put_u64(&o, L11->ob_size, 3);
	CHECK_EQ_INT(py_read_long(&p, addr_of(&o), &v), -ERANGE);

	fake_proc_init(&p, L12);
	fake_put_u64(&o, L12->long_tag, 2 << 3 | 2);       /* two digits, negative */
	CHECK_EQ_INT(py_read_long(&p, addr_of(&o), &v), 0);
	CHECK_EQ_INT(v, -((1LL << 30) + 5));
	fake_put_u64(&o, L12->long_tag, 1);                /* zero */
	CHECK_EQ_INT(py_read_long(&p, addr_of(&o), &v), 0);
	CHECK_EQ_INT(v, 0);
}

static void test_read_float(void)
{
	static struct fake_obj o;
	double d = 2.5, got = 0;
	struct py_proc p;

	fake_proc_init(&p, &cpy_layout_3_10);
	fake_put(&o, cpy_layout_3_10.float_value, &d, sizeof(d));
	CHECK_EQ_INT(py_read_float(&p, addr_of(&o), &got), 0);
	CHECK_NEAR(got, 2.5, 0);
}

int main(void)
{
	RUN(test_utf8_length_boundaries);
	RUN(test_utf8_each_kind);
	RUN(test_utf8_cut_at_a_character);
	RUN(test_read_str_every_kind);
	RUN(test_read_str_legacy);
	RUN(test_read_str_cut_to_buffer);
	RUN(test_read_str_rejects_bad_objects);
	RUN(test_read_cstr_page_boundaries);
	RUN(test_type_name);
	RUN(test_read_bytes);
	RUN(test_read_long);
	RUN(test_read_float);
	RUN(test_utf8_output_is_valid);
	RUN(test_read_str_short_ascii_at_page_end);
	return unit_done();
}
