/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <stdlib.h>
#include "hashtab.h"
#include "remote.h"

/* Nothing lives in the first page, and user space ends below 2^47. */
#define MIN_ADDR 4096ULL
#define MAX_ADDR (1ULL << 47)

static int read_direct(struct remote *r, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (addr < MIN_ADDR || addr >= MAX_ADDR || len > MAX_ADDR - addr)
		return -EFAULT;
	if (!len)
		return 0;
	n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return errno == ESRCH ? -ESRCH : errno == EPERM ? -EPERM : -EFAULT;
	return (size_t)n == len ? 0 : -EFAULT;
}

static int cache_read(struct remote *r, uint64_t addr, void *buf, size_t len);

int remote_read(struct remote *r, uint64_t addr, void *buf, size_t len)
{
	if (r->cache)
		return cache_read(r, addr, buf, len);
	return read_direct(r, addr, buf, len);
}

struct remote_cache *remote_pause_cache(struct remote *r)
{
	struct remote_cache *c = r->cache;

	r->cache = NULL;
	return c;
}

void remote_resume_cache(struct remote *r, struct remote_cache *c)
{
	r->cache = c;
}

int remote_read_ptr(struct remote *r, uint64_t addr, uint64_t *out)
{
	return remote_read(r, addr, out, sizeof(*out));
}

int remote_read_i32(struct remote *r, uint64_t addr, int32_t *out)
{
	return remote_read(r, addr, out, sizeof(*out));
}

int remote_read_i64(struct remote *r, uint64_t addr, int64_t *out)
{
	return remote_read(r, addr, out, sizeof(*out));
}
/* The page cache behind remote_snapshot_begin. */
#define PAGE 4096ULL
#define READ_AHEAD 4                    /* pages per miss */
#define MAX_PAGES (64 * 1024)           /* 256 MiB: past that, read directly */
/* Pages are carved from blocks of this many, freed at once at the end: a
 * malloc and a free per page were a fifth of a 10,000-task snapshot. */
#define BLOCK_PAGES 64

struct page {
	uint64_t no;        /* page number */
	int err;            /* 0, or why the page cannot be read */
	uint8_t *data;      /* in one of the blocks; stays put until the end */
};

struct remote_cache {
	struct hashtab pages;  /* entries: struct page, keyed by number */
	uint8_t **blocks;
	size_t nblocks, block_used;  /* pages handed out of the last block */
	/* the page read last: most reads fall in the same page as the one
	 * before (fields of one object), and skip the table */
	uint64_t last_no;
	const uint8_t *last_data;    /* NULL: none yet */
};

static bool same_page(const void *entry, const void *key)
{
	return ((const struct page *)entry)->no == *(const uint64_t *)key;
}

static struct page *page_of(struct remote_cache *c, uint64_t no)
{
	return hashtab_find(&c->pages, no, &no, same_page);
}

int remote_snapshot_begin(struct remote *r)
{
	struct remote_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (hashtab_init(&c->pages, sizeof(struct page), 4096)) {
		free(c);
		return -ENOMEM;
	}
	r->cache = c;
	return 0;
}

void remote_snapshot_end(struct remote *r)
{
	struct remote_cache *c = r->cache;

	if (!c)
		return;
	for (size_t i = 0; i < c->nblocks; i++)
		free(c->blocks[i]);
	free(c->blocks);
	hashtab_done(&c->pages);
	free(c);
	r->cache = NULL;
}

/* Room for n pages in a row (n <= BLOCK_PAGES), NULL when out of memory. */
static uint8_t *take_pages(struct remote_cache *c, size_t n)
{
	uint8_t **blocks, *b;

	if (c->nblocks && c->block_used + n <= BLOCK_PAGES) {
		b = c->blocks[c->nblocks - 1] + c->block_used * PAGE;
		c->block_used += n;
		return b;
	}
	blocks = realloc(c->blocks, (c->nblocks + 1) * sizeof(*blocks));
	if (!blocks)
		return NULL;
	c->blocks = blocks;
	b = malloc(BLOCK_PAGES * PAGE);
	if (!b)
		return NULL;
	c->blocks[c->nblocks++] = b;
	c->block_used = n;
	return b;
}

/* Caches page `no` (its data, or why it cannot be read). A page cached
 * already keeps its first copy: pointers to it stay valid. */
static void insert(struct remote_cache *c, uint64_t no, int err, uint8_t *data)
{
	bool fresh;
	struct page *p = hashtab_get(&c->pages, no, &no, same_page, &fresh);

	if (p && fresh)
		*p = (struct page){ no, err, data };
}

/* Reads page `no` and the next few in one syscall; the pages before the
 * first unreadable one are cached, that one is cached as an error. */
static struct page *fetch(struct remote *r, uint64_t no)
{
	struct remote_cache *c = r->cache;
	struct iovec local = { take_pages(c, READ_AHEAD), READ_AHEAD * PAGE };
	struct iovec remote = { (void *)(uintptr_t)(no * PAGE), READ_AHEAD * PAGE };
	size_t got = 0;
	ssize_t n;

	if (!local.iov_base)
		return NULL;
	n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);
	if (n > 0)
		got = (size_t)n / PAGE;
	for (size_t i = 0; i < got; i++)
		insert(c, no + i, 0, (uint8_t *)local.iov_base + i * PAGE);
	if (!got)
		insert(c, no, n < 0 && errno == ESRCH ? -ESRCH : -EFAULT, NULL);
	return page_of(c, no);
}

/* Page no's data, NULL when it cannot be read (*err says why). */
static const uint8_t *cached_page(struct remote *r, uint64_t no, int *err)
{
	struct remote_cache *c = r->cache;
	struct page *p;

	if (c->last_data && c->last_no == no)
		return c->last_data;
	p = page_of(c, no);
	if (!p)
		p = fetch(r, no);
	if (!p || p->err) {
		*err = p ? p->err : -ENOMEM;
		return NULL;
	}
	c->last_no = no;
	c->last_data = p->data;
	return p->data;
}

static int cache_read(struct remote *r, uint64_t addr, void *buf, size_t len)
{
	struct remote_cache *c = r->cache;
	uint8_t *out = buf;
	int err = 0;

	if (addr < PAGE || len > (1ULL << 47) || addr + len < addr)
		return -EFAULT;
	if (c->pages.used >= MAX_PAGES)
		return read_direct(r, addr, buf, len);
	while (len) {
		uint64_t no = addr / PAGE, off = addr % PAGE;
		size_t chunk = (size_t)(PAGE - off) < len ? (size_t)(PAGE - off) : len;
		const uint8_t *data = cached_page(r, no, &err);

		if (!data)
			return err;
		memcpy(out, data + off, chunk);
		out += chunk;
		addr += chunk;
		len -= chunk;
	}
	return 0;
}

static int in_bounds(size_t size, int off, size_t width)
{
	return off >= 0 && (size_t)off + width <= size;
}

uint64_t field_ptr(const void *copy, size_t size, int off)
{
	uint64_t v = 0;

	if (in_bounds(size, off, sizeof(v)))
		memcpy(&v, (const char *)copy + off, sizeof(v));
	return v;
}

int64_t field_i64(const void *copy, size_t size, int off)
{
	int64_t v = 0;

	if (in_bounds(size, off, sizeof(v)))
		memcpy(&v, (const char *)copy + off, sizeof(v));
	return v;
}

int32_t field_i32(const void *copy, size_t size, int off)
{
	int32_t v = 0;

	if (in_bounds(size, off, sizeof(v)))
		memcpy(&v, (const char *)copy + off, sizeof(v));
	return v;
}

int8_t field_i8(const void *copy, size_t size, int off)
{
	int8_t v = 0;

	if (in_bounds(size, off, sizeof(v)))
		memcpy(&v, (const char *)copy + off, sizeof(v));
	return v;
}
