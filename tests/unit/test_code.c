/* SPDX-License-Identifier: GPL-2.0-only */
/* code.c: line numbers from the 3.10 line table (Objects/lnotab_notes.txt)
 * and the 3.11+ location table (InternalDocs/locations.md), tables built by
 * hand from those formats (each one also checked against co_lines() of
 * CPython 3.10.13 to 3.13.0); code objects read from the test's own memory. */
#include <errno.h>
#include "code.h"
#include "errors.h"
#include "fake_py.h"
#include "intern.h"
#include "unit.h"

struct want {
	int offset, line;
};

/* Checks code_line at every offset of want[] for a table of Python 3.minor. */
static void check_lines(int minor, const uint8_t *table, size_t len, int firstlineno,
			const struct want *want, size_t n)
{
	struct py_proc p = { .minor = minor };
	struct code_info ci = {
		.firstlineno = firstlineno, .linetable = (uint8_t *)table, .linetable_len = len,
	};

	for (size_t i = 0; i < n; i++) {
		int got = code_line(&p, &ci, want[i].offset);

		if (got != want[i].line)
			printf("    3.%d, offset %d:\n", minor, want[i].offset);
		CHECK_EQ_INT(got, want[i].line);
	}
}

#define CHECK_LINES(minor, table, first, want) \
	check_lines(minor, table, sizeof(table), first, want, sizeof(want) / sizeof(want[0]))

/* 3.10: lnotab_notes.txt's "final form" example, with co_firstlineno 100:
 * a 300-byte range split as 254 + 46, a range with no line (-128), a jump
 * of 200 lines split as +127 over an empty range then +73, the end mark. */
static const uint8_t table_310[] = {
	6, 1,  44, 1,  254, 5,  46, 0,  10, 0x80,  16, 1,  0, 127,  4, 73,  255,
};

static void test_310_documented_example(void)
{
	static const struct want want[] = {
		{ 0, 101 }, { 5, 101 }, { 6, 102 }, { 49, 102 }, { 50, 107 }, { 303, 107 },
		{ 304, 107 }, { 349, 107 }, { 350, -1 }, { 359, -1 }, { 360, 108 },
		{ 375, 108 }, { 376, 308 }, { 379, 308 },
		{ 380, -1 }, { 4096, -1 },   /* past the end */
		{ -1, 100 },                 /* no instruction yet: co_firstlineno */
	};

	CHECK_LINES(10, table_310, 100, want);
}

/* Line deltas are signed bytes: going back (a loop's test, a decorator),
 * down to -127, over an empty range. */
static void test_310_negative_deltas(void)
{
	static const uint8_t table[] = { 4, 1,  6, 5,  2, 0xfd /* -3 */,  0, 0x81 /* -127 */,
					 2, 0xfd };
	static const struct want want[] = {
		{ 0, 201 }, { 3, 201 }, { 4, 206 }, { 9, 206 }, { 10, 203 }, { 11, 203 },
		{ 12, 73 }, { 13, 73 }, { 14, -1 },
	};

	CHECK_LINES(10, table, 200, want);
}

/* A line delta after a "no line" entry counts from the last real line. */
static void test_310_no_line_keeps_the_line(void)
{
	static const uint8_t table[] = { 2, 0x80,  2, 3,  2, 0x80,  2, 0xff /* -1 */ };
	static const struct want want[] = {
		{ 0, -1 }, { 1, -1 }, { 2, 13 }, { 4, -1 }, { 6, 12 }, { 8, -1 },
	};

	CHECK_LINES(10, table, 10, want);
}

static void test_empty_table(void)
{
	static const struct want want[] = { { 0, -1 }, { 2, -1 }, { -1, 7 } };
	struct py_proc p = { .minor = 10 };
	struct code_info ci = { .firstlineno = 7 };

	for (int minor = 10; minor <= 13; minor++) {
		p.minor = minor;
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			CHECK_EQ_INT(code_line(&p, &ci, want[i].offset), want[i].line);
	}
}

/* 3.11+, co_firstlineno 10. The first byte of an entry is
 * 1 | code (4 bits) | length in code units - 1 (3 bits). */
static const uint8_t table_311[] = {
	0x81, 0x00,                   /* short form 0, 2 units: line 10 */
	0xd8, 0x04, 0x08,             /* one-line form 11 (+1), 1 unit: 11 */
	0xe2, 0x00, 0x05,             /* one-line form 12 (+2), 3 units: 13 */
	0xe8, 0x0b,                   /* no columns 13, svarint 11 = -5: 8 */
	0xf9,                         /* no location 15, 2 units: none */
	0xf0, 0x50, 0x06, 0x00, 0x03, 0x07,  /* long form 14, svarint 400 = +200: 208 */
	0xd0, 0x01, 0x02,             /* one-line form 10 (+0): 208 */
	0x87, 0x10,                   /* short form 0, 8 units (the longest): 208 */
	0xe8, 0x49, 0x03,             /* no columns, svarint 201 = -100 (two chunks): 108 */
	0xc8, 0x21,                   /* short form 9: 108 */
};

static void test_311_every_entry_kind(void)
{
	static const struct want want[] = {
		{ 0, 10 }, { 3, 10 }, { 4, 11 }, { 5, 11 }, { 6, 13 }, { 11, 13 },
		{ 12, 8 }, { 13, 8 }, { 14, -1 }, { 17, -1 }, { 18, 208 }, { 19, 208 },
		{ 20, 208 }, { 22, 208 }, { 37, 208 }, { 38, 108 }, { 40, 108 }, { 41, 108 },
		{ 42, -1 }, { 100000, -1 },  /* past the end */
		{ -1, 10 },
	};

	for (int minor = 11; minor <= 13; minor++)
		CHECK_LINES(minor, table_311, 10, want);
}

/* A table that starts with no location; the next entry's delta is from
 * co_firstlineno. */
static void test_311_no_location_first(void)
{
	static const uint8_t table[] = { 0xf8, 0x80, 0x00, 0xe8, 0x06 /* +3 */ };
	static const struct want want[] = { { 0, -1 }, { 1, -1 }, { 2, 5 }, { 4, 8 }, { 6, -1 } };

	CHECK_LINES(11, table, 5, want);
}

/* A varint cut off by the end of the table is not read past it. */
static void test_311_truncated_entry(void)
{
	static const uint8_t table[] = { 0x81, 0x00, 0xf0, 0x50 };
	static const struct want want[] = { { 0, 10 }, { 3, 10 }, { 6, -1 } };

	CHECK_LINES(12, table, 10, want);
}

/* A code object, its names and its line table, laid out by `layout`. */
struct fake_code {
	struct fake_obj code, file, qualname, name, table;
};

static uint64_t fake_code(struct fake_code *f, const struct cpy_layout *L, const uint8_t *table,
			  size_t len)
{
	memset(&f->code, 0, sizeof(f->code));
	fake_put_u64(&f->code, L->ob_type, 0x1000);
	fake_put_u64(&f->code, L->co_filename, fake_ascii(&f->file, L, "/srv/app.py"));
	fake_put_u64(&f->code, L->co_name, fake_ascii(&f->name, L, "run"));
	if (L->co_qualname >= 0)
		fake_put_u64(&f->code, L->co_qualname, fake_ascii(&f->qualname, L, "Handler.run"));
	fake_put_u32(&f->code, L->co_firstlineno, 40);
	if (L->co_firsttraceable >= 0)
		fake_put_u32(&f->code, L->co_firsttraceable, 3);
	fake_put_u64(&f->code, L->co_linetable, fake_bytes(&f->table, L, table, len));
	return addr_of(&f->code);
}

static void open_proc(struct py_proc *p, const struct cpy_layout *L)
{
	fake_proc_init(p, L);
	p->strings = intern_new();
	p->codes = code_cache_new();
}

static void close_proc(struct py_proc *p)
{
	code_cache_free(p->codes);
	intern_free(p->strings);
}

static void test_code_get_311(void)
{
	static struct fake_code f;
	struct py_proc p;
	const struct code_info *ci, *again;
	uint64_t addr;
	int err = 0;

	open_proc(&p, &cpy_layout_3_11);
	addr = fake_code(&f, &cpy_layout_3_11, table_311, sizeof(table_311));
	ci = code_get(&p, addr, &err);
	CHECK_EQ_INT(err, 0);
	CHECK(ci != NULL);
	if (ci) {
		CHECK_EQ_STR(ci->file, "/srv/app.py");
		CHECK_EQ_STR(ci->func, "Handler.run");   /* the qualified name */
		CHECK_EQ_INT(ci->firstlineno, 40);
		CHECK_EQ_INT(ci->firsttraceable, 3);
		CHECK_EQ_INT(ci->linetable_len, sizeof(table_311));
		CHECK_EQ_INT(code_line(&p, ci, 4), 41);
		CHECK_EQ_INT(code_line(&p, ci, 18), 238);
		CHECK(ci->file == intern_str(p.strings, "/srv/app.py"));
	}
	again = code_get(&p, addr, &err);
	CHECK(again == ci);

	/* The same address now holds another code object: read again. */
	fake_put_u64(&f.code, cpy_layout_3_11.co_qualname,
		     fake_ascii(&f.name, &cpy_layout_3_11, "other"));
	ci = code_get(&p, addr, &err);
	CHECK_EQ_INT(err, 0);
	CHECK(ci && !strcmp(ci->func, "other"));

	/* Not a code object (its type is not the code type). */
	p.types.code = 0x2000;
	CHECK(code_get(&p, addr, &err) == NULL);
	CHECK_EQ_INT(err, -LS_EBADDATA);
	close_proc(&p);
}

static void test_code_get_310_uses_co_name(void)
{
	static struct fake_code f;
	struct py_proc p;
	const struct code_info *ci;
	int err = 0;

	open_proc(&p, &cpy_layout_3_10);
	ci = code_get(&p, fake_code(&f, &cpy_layout_3_10, table_310, sizeof(table_310)), &err);
	CHECK_EQ_INT(err, 0);
	CHECK(ci != NULL);
	if (ci) {
		CHECK_EQ_STR(ci->func, "run");
		CHECK_EQ_INT(ci->firsttraceable, 0);
		CHECK_EQ_INT(code_line(&p, ci, 376), 248);
	}
	close_proc(&p);
}

static void test_code_get_unreadable(void)
{
	uint8_t *page = guard_page_new();
	struct py_proc p;
	int err = 0;

	CHECK(page != NULL);
	if (!page)
		return;
	open_proc(&p, &cpy_layout_3_12);
	CHECK(code_get(&p, addr_of(page + GUARD_PAGE), &err) == NULL);
	CHECK_EQ_INT(err, -EFAULT);
	/* the header reaches into the unreadable page */
	CHECK(code_get(&p, addr_of(page + GUARD_PAGE - 64), &err) == NULL);
	CHECK_EQ_INT(err, -EFAULT);
	close_proc(&p);
	guard_page_free(page);
}

/* Instruction positions from a churning target are garbage: they map to
 * "no line", never to an overflow (UBSan saw lasti * 2 overflow). */
static void test_hostile_instruction_positions(void)
{
	const struct cpy_layout *L = &cpy_layout_3_12;
	uint64_t code = 0x7f0000001000ULL, first = code + (uint64_t)L->co_code_adaptive;

	CHECK_EQ_INT(code_instr_unit(L, code, first), 0);
	CHECK_EQ_INT(code_instr_unit(L, code, first + 10), 5);
	CHECK_EQ_INT(code_instr_unit(L, code, first - 2), -1);          /* not started */
	CHECK_EQ_INT(code_instr_unit(L, code, first - 4096), CODE_MAX_UNITS);
	CHECK_EQ_INT(code_instr_unit(L, code, first + (1ULL << 40)), CODE_MAX_UNITS);
	CHECK_EQ_INT(code_instr_unit(L, code, ~0ULL), CODE_MAX_UNITS);
	CHECK_EQ_INT(code_unit_offset(5), 10);
	CHECK_EQ_INT(code_unit_offset(-1), -1);
	CHECK_EQ_INT(code_unit_offset(0x7fffffff), 2 * CODE_MAX_UNITS);
	CHECK_EQ_INT(code_unit_offset(-0x7fffffffLL - 1), -1);
}

int main(void)
{
	RUN(test_310_documented_example);
	RUN(test_310_negative_deltas);
	RUN(test_310_no_line_keeps_the_line);
	RUN(test_empty_table);
	RUN(test_311_every_entry_kind);
	RUN(test_311_no_location_first);
	RUN(test_311_truncated_entry);
	RUN(test_code_get_311);
	RUN(test_code_get_310_uses_co_name);
	RUN(test_code_get_unreadable);
	RUN(test_hostile_instruction_positions);
	return unit_done();
}
