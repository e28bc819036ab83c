/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "watch_opts.h"
#include "errors.h"
#include "bpf_features.h"
#include "proc.h"
#include "stall_output.h"
#include "watching.h"
#include <time.h>

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

volatile sig_atomic_t cli_reader_gone;

int cli_target_open(struct proc_ref *t, pid_t pid)
{
	int err = proc_ref_open(t, pid);

	return err ? cli_attach_error(pid, err) : 0;
}

int cli_target_attached(const struct proc_ref *t)
{
	if (!proc_ref_gone(t))
		return 0;
	/* the PID may name another process by now: never watch that one */
	return cli_attach_error(t->pid, -LS_EEXITING);
}

/* A pipe whose reader has gone polls POLLERR on its write end (a tty that
 * hung up: POLLHUP): the output has nowhere to go, stop as a filter does
 * when `head` has read enough. Nothing to print first: EPIPE would be all. */
static void check_reader(short revents)
{
	if (revents & (POLLERR | POLLHUP)) {
		cli_reader_gone = 1;
		cli_stop = 1;
	}
}

bool cli_output_failed(void)
{
	if (fflush(stdout) == EOF && (errno == EPIPE || errno == EIO))
		cli_reader_gone = 1;
	if (cli_reader_gone)
		cli_stop = 1;
	return cli_reader_gone;
}

int cli_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	struct pollfd all[8];

	if (n >= sizeof(all) / sizeof(all[0]))
		return -EINVAL;
	memcpy(all, fds, n * sizeof(*fds));
	all[n] = (struct pollfd){ .fd = STDOUT_FILENO, .events = 0 };
	if (poll(all, n + 1, timeout_ms) < 0) {
		if (errno != EINTR)
			return -errno;
		for (nfds_t i = 0; i <= n; i++)
			all[i].revents = 0;
	}
	memcpy(fds, all, n * sizeof(*fds));
	check_reader(all[n].revents);
	cli_output_failed();
	return 0;
}

int cli_sooner_ms(int a, int b)
{
	if (a < 0)
		return b;
	return b < 0 || a < b ? a : b;
}

void cli_target_exit(struct stall_monitor *m, pid_t pid)
{
	struct pollfd p = { .fd = stall_monitor_fd(m), .events = POLLIN };

	cli_poll(&p, 1, 50);
	stall_monitor_process(m);
	if (!watch_opts.json)
		fprintf(stderr, "loopscope: PID %d exited\n", pid);
}

void cli_stall_notes(struct stall_monitor *m)
{
	for (const char *note; (note = stall_monitor_take_note(m));)
		cli_warn(note);
}

bool cli_take_exec(struct stall_monitor *m, const struct stall_printer *p, pid_t pid)
{
	struct stall_exec e;
	struct timespec now;

	if (!stall_monitor_take_exec(m, &e))
		return false;
	clock_gettime(CLOCK_REALTIME, &now);
	stall_exec_emit(p, stdout, pid, &e, now.tv_sec + now.tv_nsec / 1e9);
	return true;
}
