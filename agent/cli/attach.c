/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include "attach.h"
#include "cli.h"
#include "errors.h"
#include "proc.h"

/* Whatever went wrong, a target that is gone now was read while dying:
 * that, not what the half-torn memory looked like, is the reason. */
static bool gone(pid_t pid)
{
	return !proc_alive(pid);
}

int attach_python(pid_t pid, struct py_proc **out)
{
	char why[640];
	int err = py_proc_open(pid, out, why, sizeof(why));

	if (!err)
		return 0;
	if (err != -ESRCH && gone(pid))
		err = -LS_EEXITING;
	if (err == -ESRCH || err == -EPERM || err == -LS_EKTHREAD || err == -LS_EEXITING)
		return cli_attach_error(pid, err);
	cli_error("%s", why);
	return EXIT_FAIL;
}

int attach_tasks(struct py_proc *p, struct aio_snapshot *snap)
{
	int err = aio_snapshot_read(p, snap);

	if (!err)
		return 0;
	if (err != -ESRCH && gone(p->pid))
		cli_error("PID %d exited while loopscope was attaching to it", p->pid);
	else if (err == -LS_ENOLOOP)
		cli_error("no asyncio event loop found in PID %d", p->pid);
	else if (err == -LS_ENOFILE)
		cli_error("%s", p->file_error);
	else if (err == -ESRCH)
		cli_error("PID %d exited while it was read", p->pid);
	else
		cli_error("cannot read the asyncio tasks of PID %d: %s", p->pid, ls_strerror(err));
	return EXIT_FAIL;
}

int attach_snapshot(pid_t pid, struct py_proc **p, struct aio_snapshot *snap)
{
	if (attach_python(pid, p))
		return EXIT_FAIL;
	if (attach_tasks(*p, snap)) {
		py_proc_free(*p);
		*p = NULL;
		return EXIT_FAIL;
	}
	return 0;
}
