#include <errno.h>
#include "attach.h"
#include "cli.h"
#include "errors.h"

int attach_python(pid_t pid, struct py_proc **out)
{
	char why[256];
	int err = py_proc_open(pid, out, why, sizeof(why));

	if (!err)
		return 0;
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
	if (err == -LS_ENOLOOP)
		cli_error("no asyncio event loop found in PID %d", p->pid);
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
