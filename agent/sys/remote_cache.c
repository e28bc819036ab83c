#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "remote_cache.h"

#define PAGE 4096ULL
#define READ_AHEAD 4                    /* pages per miss */
#define MAX_PAGES (64 * 1024)           /* 256 MiB: past that, read directly */

struct page {
	uint64_t no;        /* page number + 1; 0: empty slot */
	int err;            /* 0, or why the page cannot be read */
	uint8_t *data;
};

struct remote_cache {
	size_t cap, used;
	struct page *slots;
};

int remote_snapshot_begin(struct remote *r)
{
	struct remote_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->cap = 4096;
	c->slots = calloc(c->cap, sizeof(*c->slots));
	if (!c->slots) {
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
	for (size_t i = 0; i < c->cap; i++)
		free(c->slots[i].data);
	free(c->slots);
	free(c);
	r->cache = NULL;
}

static struct page *slot_for(struct page *slots, size_t cap, uint64_t no)
{
	size_t i = (size_t)(no * 0x9E3779B97F4A7C15ULL >> 20) & (cap - 1);

	while (slots[i].no && slots[i].no != no + 1)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow(struct remote_cache *c)
{
	size_t cap = c->cap * 2;
	struct page *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < c->cap; i++)
		if (c->slots[i].no)
			*slot_for(slots, cap, c->slots[i].no - 1) = c->slots[i];
	free(c->slots);
	c->slots = slots;
	c->cap = cap;
	return 0;
}

static int insert(struct remote_cache *c, uint64_t no, int err, uint8_t *data)
{
	struct page *p;

	if (c->used * 2 >= c->cap && grow(c))
		return -ENOMEM;
	p = slot_for(c->slots, c->cap, no);
	if (!p->no)
		c->used++;
	else
		free(p->data);
	*p = (struct page){ no + 1, err, data };
	return 0;
}

/* Reads page `no` and the next few in one syscall; the pages before the
 * first unreadable one are cached, that one is cached as an error. */
static struct page *fetch(struct remote *r, uint64_t no)
{
	struct remote_cache *c = r->cache;
	struct iovec local[READ_AHEAD], remote;
	size_t got = 0;
	ssize_t n;
	int k;

	for (k = 0; k < READ_AHEAD; k++) {
		local[k].iov_base = malloc(PAGE);
		local[k].iov_len = PAGE;
		if (!local[k].iov_base)
			break;
	}
	remote.iov_base = (void *)(uintptr_t)(no * PAGE);
	remote.iov_len = (size_t)k * PAGE;
	n = k ? process_vm_readv(r->pid, local, (unsigned long)k, &remote, 1, 0) : -1;
	r->reads++;
	if (n > 0) {
		r->bytes += (uint64_t)n;
		got = (size_t)n / PAGE;
	}
	for (int i = 0; i < k; i++) {
		if ((size_t)i < got && !insert(c, no + (uint64_t)i, 0, local[i].iov_base))
			continue;
		free(local[i].iov_base);
	}
	if (!got)
		insert(c, no, n < 0 && errno == ESRCH ? -ESRCH : -EFAULT, NULL);
	return slot_for(c->slots, c->cap, no);
}

int remote_cache_read(struct remote *r, uint64_t addr, void *buf, size_t len)
{
	struct remote_cache *c = r->cache;
	uint8_t *out = buf;

	if (addr < PAGE || len > (1ULL << 47) || addr + len < addr)
		return -EFAULT;
	if (c->used >= MAX_PAGES)
		return remote_read_direct(r, addr, buf, len);
	while (len) {
		uint64_t no = addr / PAGE, off = addr % PAGE;
		size_t chunk = (size_t)(PAGE - off) < len ? (size_t)(PAGE - off) : len;
		struct page *p = slot_for(c->slots, c->cap, no);

		if (!p->no)
			p = fetch(r, no);
		if (!p->no || p->err)
			return p->no ? p->err : -ENOMEM;
		memcpy(out, p->data + off, chunk);
		out += chunk;
		addr += chunk;
		len -= chunk;
	}
	return 0;
}
