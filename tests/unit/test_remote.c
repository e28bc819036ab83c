/* SPDX-License-Identifier: GPL-2.0-only */
/* remote.c, reading the test's own memory (getpid()):
 * direct reads and reads through the snapshot page cache, across page
 * boundaries, up to and into an unreadable page, of a process that is
 * gone; the bounds-checked field readers. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "guard_page.h"
#include "remote.h"
#include "unit.h"

#define PAGE 4096

/* Three pages, page-aligned: reads that cross from one to the next. */
static _Alignas(PAGE) uint8_t pages[3 * PAGE];

static struct remote self(void)
{
	return (struct remote){ .pid = getpid() };
}

static void fill_pages(uint8_t salt)
{
	for (size_t i = 0; i < sizeof(pages); i++)
		pages[i] = (uint8_t)(i * 7 + salt);
}

static void test_direct_read(void)
{
	struct remote r = self();
	uint8_t buf[2 * PAGE];

	fill_pages(1);
	CHECK_EQ_INT(remote_read(&r, addr_of(pages + PAGE - 100), buf, sizeof(buf)), 0);
	CHECK(!memcmp(buf, pages + PAGE - 100, sizeof(buf)));
	CHECK_EQ_INT(remote_read(&r, addr_of(pages), buf, 0), 0);
}

static void test_typed_reads(void)
{
	static const struct { uint64_t p; int64_t i64; int32_t i32; } v = {
		0x7f0011223344ULL, -5, -7,
	};
	struct remote r = self();
	uint64_t p = 0;
	int64_t i64 = 0;
	int32_t i32 = 0;

	CHECK_EQ_INT(remote_read_ptr(&r, addr_of(&v.p), &p), 0);
	CHECK(p == v.p);
	CHECK_EQ_INT(remote_read_i64(&r, addr_of(&v.i64), &i64), 0);
	CHECK_EQ_INT(i64, -5);
	CHECK_EQ_INT(remote_read_i32(&r, addr_of(&v.i32), &i32), 0);
	CHECK_EQ_INT(i32, -7);
}

/* Addresses no user-space object can have, lengths that wrap: -EFAULT. */
static void test_impossible_addresses(void)
{
	struct remote r = self();
	uint8_t buf[16];

	for (int cached = 0; cached <= 1; cached++) {
		if (cached)
			CHECK_EQ_INT(remote_snapshot_begin(&r), 0);
		CHECK_EQ_INT(remote_read(&r, 0, buf, 8), -EFAULT);
		CHECK_EQ_INT(remote_read(&r, 4095, buf, 8), -EFAULT);
		CHECK_EQ_INT(remote_read(&r, 1ULL << 47, buf, 8), -EFAULT);
		CHECK_EQ_INT(remote_read(&r, ~0ULL - 4, buf, 8), -EFAULT);   /* wraps */
		CHECK_EQ_INT(remote_read(&r, addr_of(pages), buf, 1ULL << 48), -EFAULT);
	}
	remote_snapshot_end(&r);
}

/* Up to the last readable byte reads; one byte more does not. */
static void check_guard(struct remote *r, uint8_t *page)
{
	uint8_t buf[64];

	memcpy(page + PAGE - 4, "abc", 4);
	CHECK_EQ_INT(remote_read(r, addr_of(page + PAGE - 4), buf, 4), 0);
	CHECK_EQ_STR((char *)buf, "abc");
	CHECK_EQ_INT(remote_read(r, addr_of(page + PAGE - 4), buf, 5), -EFAULT);
	CHECK_EQ_INT(remote_read(r, addr_of(page + PAGE - 32), buf, 64), -EFAULT);
	CHECK_EQ_INT(remote_read(r, addr_of(page + PAGE), buf, 1), -EFAULT);
	CHECK_EQ_INT(remote_read(r, addr_of(page + PAGE + 100), buf, 8), -EFAULT);
	CHECK_EQ_INT(remote_read(r, addr_of(page), buf, 8), 0);
}

static void test_unreadable_page(void)
{
	uint8_t *page = guard_page_new();
	struct remote r = self();

	CHECK(page != NULL);
	if (!page)
		return;
	check_guard(&r, page);
	CHECK_EQ_INT(remote_snapshot_begin(&r), 0);
	check_guard(&r, page);
	remote_snapshot_end(&r);
	guard_page_free(page);
}

/* A snapshot reads each page once and keeps it: later reads see the
 * memory as it was, until the snapshot ends. */
static void test_snapshot_is_one_view(void)
{
	struct remote r = self();
	uint8_t buf[PAGE + 200], want[PAGE + 200];

	fill_pages(2);
	memcpy(want, pages + PAGE - 100, sizeof(want));
	CHECK_EQ_INT(remote_snapshot_begin(&r), 0);
	CHECK_EQ_INT(remote_read(&r, addr_of(pages + PAGE - 100), buf, sizeof(buf)), 0);
	CHECK(!memcmp(buf, want, sizeof(buf)));
	CHECK_EQ_INT(remote_read(&r, addr_of(pages + PAGE + 8), buf, 8), 0);
	CHECK(!memcmp(buf, want + 108, 8));           /* from the cache */

	fill_pages(3);                                /* the memory changes ... */
	CHECK_EQ_INT(remote_read(&r, addr_of(pages + PAGE - 100), buf, sizeof(buf)), 0);
	CHECK(!memcmp(buf, want, sizeof(buf)));      /* ... the snapshot does not */
	remote_snapshot_end(&r);
	CHECK(r.cache == NULL);
	CHECK_EQ_INT(remote_read(&r, addr_of(pages + PAGE - 100), buf, sizeof(buf)), 0);
	CHECK(!memcmp(buf, pages + PAGE - 100, sizeof(buf)));
	remote_snapshot_end(&r);                      /* twice is harmless */
}

/* A miss reads ahead: the next pages come from that one read, so they
 * still read after they were made unreadable. */
static void test_snapshot_reads_ahead(void)
{
	uint8_t *big = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	struct remote r = self();
	uint8_t buf[8];

	CHECK(big != MAP_FAILED);
	if (big == MAP_FAILED)
		return;
	memset(big, 0x5a, 4 * PAGE);
	CHECK_EQ_INT(remote_snapshot_begin(&r), 0);
	CHECK_EQ_INT(remote_read(&r, addr_of(big), buf, 8), 0);
	CHECK_EQ_INT(mprotect(big + PAGE, 3 * PAGE, PROT_NONE), 0);
	for (int i = 1; i < 4; i++) {
		CHECK_EQ_INT(remote_read(&r, addr_of(big + i * PAGE), buf, 8), 0);
		CHECK(buf[0] == 0x5a && buf[7] == 0x5a);
	}
	remote_snapshot_end(&r);
	CHECK_EQ_INT(remote_read(&r, addr_of(big + PAGE), buf, 8), -EFAULT); /* live again */
	munmap(big, 4 * PAGE);
}

/* An unreadable page is remembered as such for the snapshot. */
static void test_snapshot_keeps_errors(void)
{
	uint8_t *page = guard_page_new();
	struct remote r = self();
	uint8_t buf[8];

	CHECK(page != NULL);
	if (!page)
		return;
	CHECK_EQ_INT(remote_snapshot_begin(&r), 0);
	CHECK_EQ_INT(remote_read(&r, addr_of(page + PAGE), buf, 8), -EFAULT);
	CHECK_EQ_INT(mprotect(page + PAGE, PAGE, PROT_READ), 0);
	CHECK_EQ_INT(remote_read(&r, addr_of(page + PAGE), buf, 8), -EFAULT);
	remote_snapshot_end(&r);
	CHECK_EQ_INT(remote_snapshot_begin(&r), 0);
	CHECK_EQ_INT(remote_read(&r, addr_of(page + PAGE), buf, 8), 0);
	remote_snapshot_end(&r);
	guard_page_free(page);
}

/* More pages than the cache's first table holds (4096 slots, grown at
 * half full): every page still reads back right. */
static void test_snapshot_grows(void)
{
	size_t npages = 3000, bad = 0;
	uint8_t *big = aligned_alloc(PAGE, npages * PAGE);
	struct remote r = self();

	CHECK(big != NULL);
	if (!big)
		return;
	for (size_t i = 0; i < npages; i++)
		memcpy(big + i * PAGE, &i, sizeof(i));
	CHECK_EQ_INT(remote_snapshot_begin(&r), 0);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < npages; i++) {
			size_t got = ~(size_t)0;

			if (remote_read(&r, addr_of(big + i * PAGE), &got, sizeof(got)) || got != i)
				bad++;
		}
	}
	CHECK_EQ_INT(bad, 0);
	remote_snapshot_end(&r);
	free(big);
}

/* A process that has exited: -ESRCH, not -EFAULT. */
static void test_process_gone(void)
{
	pid_t child = fork();
	struct remote r;
	uint8_t buf[8];

	if (child == 0)
		_exit(0);
	CHECK(child > 0);
	if (child <= 0)
		return;
	waitpid(child, NULL, 0);
	r = (struct remote){ .pid = child };
	CHECK_EQ_INT(remote_read(&r, addr_of(pages), buf, 8), -ESRCH);
	CHECK_EQ_INT(remote_snapshot_begin(&r), 0);
	CHECK_EQ_INT(remote_read(&r, addr_of(pages), buf, 8), -ESRCH);
	remote_snapshot_end(&r);
}

/* Fields of a local copy: an offset from a table that does not fit the
 * copy (or is -1, "no such field") reads as 0. */
static void test_fields(void)
{
	uint8_t copy[16];
	uint64_t p = 0x1122334455667788ULL;

	memcpy(copy, &p, 8);
	memcpy(copy + 8, &p, 8);
	CHECK(field_ptr(copy, sizeof(copy), 8) == p);
	CHECK(field_ptr(copy, sizeof(copy), 9) == 0);
	CHECK(field_ptr(copy, sizeof(copy), -1) == 0);
	CHECK(field_i64(copy, sizeof(copy), 0) == (int64_t)p);
	CHECK(field_i64(copy, 15, 8) == 0);
	CHECK_EQ_INT(field_i32(copy, sizeof(copy), 12), 0x11223344);
	CHECK_EQ_INT(field_i32(copy, sizeof(copy), 13), 0);
	CHECK_EQ_INT(field_i8(copy, sizeof(copy), 15), 0x11);
	CHECK_EQ_INT(field_i8(copy, sizeof(copy), 16), 0);
	CHECK_EQ_INT(field_i8(copy, sizeof(copy), 0), (int8_t)0x88);
}

int main(void)
{
	RUN(test_direct_read);
	RUN(test_typed_reads);
	RUN(test_impossible_addresses);
	RUN(test_unreadable_page);
	RUN(test_snapshot_is_one_view);
	RUN(test_snapshot_reads_ahead);
	RUN(test_snapshot_keeps_errors);
	RUN(test_snapshot_grows);
	RUN(test_process_gone);
	RUN(test_fields);
	return unit_done();
}
