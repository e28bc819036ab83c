/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include "cli.h"
#include "errors.h"
#include "bpf_features.h"
#include "proc.h"
#include "watching.h"

int cli_load_error(pid_t pid, int err)
{
	char why[256];

	/* the kernel's refusal says little: name the feature that is missing */
	if (bpf_features_check(why, sizeof(why))) {
		cli_error("cannot load BPF programs: %s", why);
		return EXIT_FAIL;
	}
	if (err != -EPERM && err != -EACCES)
		return cli_attach_error(pid, err);
	cli_error("cannot load BPF programs: %s (loopscope needs root, or CAP_BPF and "
		  "CAP_PERFMON)", ls_strerror(err));
	return EXIT_FAIL;
}

bool cli_target_exited(int pidfd, pid_t pid)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (pidfd < 0)
		return !proc_alive(pid);
	return poll(&p, 1, 0) > 0;
}

int cli_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	if (poll(fds, n, timeout_ms) >= 0)
		return 0;
	if (errno != EINTR)
		return -errno;
	for (nfds_t i = 0; i < n; i++)
		fds[i].revents = 0;
	return 0;
}

int cli_sooner_ms(int a, int b)
{
	if (a < 0)
		return b;
	return b < 0 || a < b ? a : b;
}

void cli_last_stalls(struct stall_monitor *m)
{
	struct pollfd p = { .fd = stall_monitor_fd(m), .events = POLLIN };

	cli_poll(&p, 1, 50);
	stall_monitor_process(m);
}

void cli_stall_notes(struct stall_monitor *m)
{
	for (const char *note; (note = stall_monitor_take_note(m));)
		cli_warn(note);
}
