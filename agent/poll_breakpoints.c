#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "elf_file.h"
#include "errors.h"
#include "maps.h"
#include "poll_breakpoints.h"
#include "proc.h"

#define MAX_POLL_FUNCS 3

struct poll_bps {
	struct bpf_link **links;
	size_t n, cap;
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool is_libc(const char *path)
{
	const char *b = base_name(path);

	return !strncmp(b, "libc.so", 7) || !strncmp(b, "libc-2.", 7);
}

/* Runtime addresses of the poll functions in the target's libc. */
static int poll_addresses(pid_t pid, uint64_t *addrs, size_t *n)
{
	static const char *const funcs[MAX_POLL_FUNCS] = { "epoll_wait", "epoll_pwait", "epoll_pwait2" };
	const struct map_entry *libc = NULL;
	char path[320];
	struct elf_file *ef;
	struct maps maps;
	uint64_t bias, value;
	int err;

	*n = 0;
	err = maps_read(pid, &maps);
	if (err)
		return err;
	for (size_t i = 0; i < maps.count && !libc; i++)
		if (is_libc(maps.entries[i].path))
			libc = maps_first_of(&maps, maps.entries[i].path);
	err = libc ? 0 : -LS_ENOSYMBOL;
	if (!err) {
		proc_root_path(pid, libc->path, path, sizeof(path));
		err = elf_file_open(path, &ef);
	}
	if (!err) {
		bias = libc->start - elf_file_base_vaddr(ef);
		for (int i = 0; i < MAX_POLL_FUNCS; i++)
			if (!elf_file_symbol(ef, funcs[i], &value, NULL))
				addrs[(*n)++] = bias + value;
		elf_file_close(ef);
	}
	maps_free(&maps);
	return err ? err : *n ? 0 : -LS_ENOSYMBOL;
}

static int push(struct poll_bps *b, struct bpf_link *link)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct bpf_link **links = realloc(b->links, cap * sizeof(*links));

		if (!links)
			return -ENOMEM;
		b->links = links;
		b->cap = cap;
	}
	b->links[b->n++] = link;
	return 0;
}

static int breakpoint(pid_t tid, uint64_t addr, struct bpf_program *prog, struct poll_bps *b)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(attr),
		.bp_type = HW_BREAKPOINT_X,
		.bp_addr = addr,
		.bp_len = sizeof(long),
		.sample_period = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
		.inherit = 1,           /* threads it creates get it too */
	};
	struct bpf_link *link;
	int fd = (int)syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd < 0)
		return -errno;
	link = bpf_program__attach_perf_event(prog, fd);
	if (!link) {
		int err = -errno;

		close(fd);
		return err;
	}
	return push(b, link);
}

/* Each breakpoint takes one fd per thread: room for many threads. */
static void raise_fd_limit(void)
{
	struct rlimit r;

	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

int poll_bps_attach(pid_t pid, struct bpf_program *prog, struct poll_bps **out, char *why,
		    size_t whylen)
{
	uint64_t addrs[MAX_POLL_FUNCS];
	struct poll_bps *b;
	pid_t *tids = NULL;
	size_t naddrs, ntids = 0;
	int err, last = 0;

	why[0] = 0;
	err = poll_addresses(pid, addrs, &naddrs);
	if (err) {
		snprintf(why, whylen, "no epoll functions found in the libc of PID %d", pid);
		return err;
	}
	b = calloc(1, sizeof(*b));
	err = b ? proc_threads(pid, &tids, &ntids) : -ENOMEM;
	raise_fd_limit();
	for (size_t i = 0; !err && i < ntids; i++)
		for (size_t k = 0; k < naddrs; k++) {
			int ret = breakpoint(tids[i], addrs[k], prog, b);

			if (ret)
				last = ret; /* a thread that just exited, or its debug registers are taken */
		}
	free(tids);
	if (!err && b && !b->n) {
		err = last ? last : -ENOENT;
		snprintf(why, whylen, "no hardware breakpoint could be set (%s)", ls_strerror(err));
	}
	if (err) {
		poll_bps_free(b);
		return err;
	}
	*out = b;
	return 0;
}

void poll_bps_free(struct poll_bps *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		bpf_link__destroy(b->links[i]);
	free(b->links);
	free(b);
}
