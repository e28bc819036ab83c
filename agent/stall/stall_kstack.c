/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "stall_kstack.h"
#include "stall_sample.skel.h"

/* One sample per millisecond on CPU: the rate of the user-space reads
 * it replaces. */
#define KSTACK_PERIOD_NS 1000000ULL

struct stall_kstack {
	struct stall_sample_bpf *skel;
	struct ring_buffer *rb;
	kstack_fn cb;
	void *ctx;
	int failed;      /* a perf event could not be opened: not tried again */
	struct kstack_watch {
		pid_t tid;               /* 0: free */
		struct bpf_link *link;   /* owns the perf event's fd */
	} watched[KSTACK_MAX_THREADS];
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct stall_kstack *k = ctx;
	struct kstack_event *e;

	if (size < sizeof(*e))
		return 0;
	e = malloc(sizeof(*e)); /* ring buffer records are not aligned for it */
	if (!e)
		return 0;
	memcpy(e, data, sizeof(*e));
	k->cb(e, k->ctx);
	free(e);
	return 0;
}

static void fill_config(struct kstack_config *c, const struct py_proc *p)
{
	c->minor = (__u32)p->minor;
#define FROM_LAYOUT(name) c->name = p->L.name;
	PYFRAMES_CONFIG_FIELDS(FROM_LAYOUT)
#undef FROM_LAYOUT
}

int stall_kstack_new(const struct py_proc *p, kstack_fn cb, void *ctx, struct stall_kstack **out)
{
	struct stall_kstack *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return -ENOMEM;
	k->cb = cb;
	k->ctx = ctx;
	k->skel = stall_sample_bpf__open();
	if (!k->skel) {
		err = -errno;
		goto fail;
	}
	fill_config((struct kstack_config *)&k->skel->rodata->cfg, p);
	err = stall_sample_bpf__load(k->skel);
	if (err)
		goto fail;
	k->rb = ring_buffer__new(bpf_map__fd(k->skel->maps.samples), on_event, k, NULL);
	if (!k->rb) {
		err = -errno;
		goto fail;
	}
	*out = k;
	return 0;
fail:
	stall_kstack_free(k);
	return err < 0 ? err : -err;
}

static struct bpf_link *open_sampling(struct stall_kstack *k, pid_t tid)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = KSTACK_PERIOD_NS,
	};
	struct bpf_link *link;
	int fd = (int)syscall(__NR_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd < 0)
		return NULL;
	link = bpf_program__attach_perf_event(k->skel->progs.ls_stall_sample, fd);
	if (!link)
		close(fd);
	return link;
}

static void unwatch(struct stall_kstack *k, struct kstack_watch *w)
{
	__u32 key = (__u32)w->tid;

	bpf_link__destroy(w->link);
	bpf_map_delete_elem(bpf_map__fd(k->skel->maps.tstates), &key);
	w->tid = 0;
	w->link = NULL;
}

static int watch(struct stall_kstack *k, pid_t tid, uint64_t tstate)
{
	__u32 key = (__u32)tid;
	__u64 value = tstate;
	struct kstack_watch *w = NULL;

	for (int i = 0; i < KSTACK_MAX_THREADS && !w; i++)
		if (!k->watched[i].tid)
			w = &k->watched[i];
	if (!w)
		return -ENOSPC;
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.tstates), &key, &value, BPF_ANY))
		return -errno;
	w->link = open_sampling(k, tid);
	if (!w->link) {
		int err = -errno;

		bpf_map_delete_elem(bpf_map__fd(k->skel->maps.tstates), &key);
		return err;
	}
	w->tid = tid;
	return 0;
}

static bool listed(const pid_t *tids, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (tids[i] == tid)
			return true;
	return false;
}

static bool watching(const struct stall_kstack *k, pid_t tid)
{
	for (int i = 0; i < KSTACK_MAX_THREADS; i++)
		if (k->watched[i].tid == tid)
			return true;
	return false;
}

int stall_kstack_keep(struct stall_kstack *k, const pid_t *tids, const uint64_t *tstates, size_t n)
{
	for (int i = 0; i < KSTACK_MAX_THREADS; i++)
		if (k->watched[i].tid && !listed(tids, n, k->watched[i].tid))
			unwatch(k, &k->watched[i]);
	for (size_t i = 0; i < n && !k->failed; i++)
		if (tids[i] && !watching(k, tids[i]))
			k->failed = watch(k, tids[i], tstates[i]);
	return k->failed;
}

int stall_kstack_drain(struct stall_kstack *k)
{
	int n = ring_buffer__consume(k->rb);

	return n < 0 ? n : 0;
}

void stall_kstack_free(struct stall_kstack *k)
{
	if (!k)
		return;
	for (int i = 0; k->skel && i < KSTACK_MAX_THREADS; i++)
		if (k->watched[i].tid)
			unwatch(k, &k->watched[i]);
	ring_buffer__free(k->rb);
	stall_sample_bpf__destroy(k->skel);
	free(k);
}
