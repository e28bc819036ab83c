#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include "remote.h"
#include "remote_cache.h"

/* Nothing lives in the first page, and user space ends below 2^47. */
#define MIN_ADDR 4096ULL
#define MAX_ADDR (1ULL << 47)

int remote_read_direct(struct remote *r, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (addr < MIN_ADDR || addr >= MAX_ADDR || len > MAX_ADDR - addr)
		return -EFAULT;
	if (!len)
		return 0;
	n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);
	r->reads++;
	if (n < 0)
		return errno == ESRCH ? -ESRCH : errno == EPERM ? -EPERM : -EFAULT;
	r->bytes += (uint64_t)n;
	return (size_t)n == len ? 0 : -EFAULT;
}

int remote_read(struct remote *r, uint64_t addr, void *buf, size_t len)
{
	if (r->cache)
		return remote_cache_read(r, addr, buf, len);
	return remote_read_direct(r, addr, buf, len);
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
