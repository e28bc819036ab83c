// SPDX-License-Identifier: GPL-2.0-only
/* Whole Python stacks of a stalled loop thread. User space opens a
 * cpu-clock perf event on the loop thread only while a stall is under way
 * and attaches this program to it: at each sample the thread is stopped
 * in the interrupt, so its frame chain cannot change under the walk (read
 * from outside while it runs, generator code relinks its frames faster
 * than they can be read). The walk is bpf/pyframes.bpf.h's, from the
 * thread state user space put in `tstates`. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "stall_sample.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct kstack_config cfg = {};

#include "pyframes.bpf.h"

/* host tid -> its Python thread state */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KSTACK_MAX_THREADS);
	__type(key, __u32);
	__type(value, __u64);
} tstates SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 512 * 1024);
} samples SEC(".maps");

__u64 dropped = 0;

SEC("perf_event")
int ls_stall_sample(struct bpf_perf_event_data *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *tstate = bpf_map_lookup_elem(&tstates, &tid);
	struct kstack_event *e;

	if (!tstate)
		return 0;
	e = bpf_ringbuf_reserve(&samples, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	e->tid = tid;
	e->ts = bpf_ktime_get_ns();
	e->stack.nframes = 0;
	e->stack.truncated = 0;
	e->stack.faulted = 0;
	pyframes_walk_thread(&e->stack, *tstate);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
