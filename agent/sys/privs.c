/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include "caps.h"
#include "privs.h"

/* The names of the capabilities loopscope may keep or talk about; others
 * are printed as their numbers. */
static const char *const cap_names[] = {
	[CAP_DAC_OVERRIDE] = "CAP_DAC_OVERRIDE", [CAP_DAC_READ_SEARCH] = "CAP_DAC_READ_SEARCH",
	[CAP_KILL] = "CAP_KILL", [CAP_SETPCAP] = "CAP_SETPCAP",
	[CAP_NET_BIND_SERVICE] = "CAP_NET_BIND_SERVICE", [CAP_SYS_PTRACE] = "CAP_SYS_PTRACE",
	[CAP_SYS_ADMIN] = "CAP_SYS_ADMIN", [CAP_SYS_RESOURCE] = "CAP_SYS_RESOURCE",
	[CAP_PERFMON] = "CAP_PERFMON", [CAP_BPF] = "CAP_BPF",
};

/* The kernel's last capability: the bounding set has no bits past it. */
static int last_cap(void)
{
	int last = CAP_LAST_CAP;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");

	if (f) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

static int cap_sets_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return syscall(SYS_capget, &h, d) ? -errno : 0;
}

static int cap_sets_set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/* The bounding set first: dropping from it takes CAP_SETPCAP, which the
 * capset below gives up. Without CAP_SETPCAP (a non-root user given a few
 * capabilities) it cannot be cut; no_new_privs then keeps an execve from
 * gaining any. */
static int drop_bounding(uint64_t keep, char *err, size_t errlen)
{
	if (!caps_have(CAP_SETPCAP))
		return 0;
	for (int cap = 0, last = last_cap(); cap <= last; cap++) {
		if ((keep & PRIVS_BIT(cap)) || prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)) {
			snprintf(err, errlen, "cannot drop capability %d from the bounding set: %s", cap,
				 strerror(errno));
			return -errno;
		}
	}
	return 0;
}

int privs_drop(uint64_t keep, char *err, size_t errlen)
{
	struct __user_cap_data_struct d[2];
	int rc = cap_sets_get(d);

	if (rc) {
		snprintf(err, errlen, "cannot read this process's capabilities: %s", strerror(-rc));
		return rc;
	}
	rc = drop_bounding(keep, err, errlen);
	if (rc)
		return rc;
	for (int i = 0; i < 2; i++) {
		d[i].permitted &= (uint32_t)(keep >> (32 * i));
		d[i].effective = d[i].permitted;
		d[i].inheritable = 0;
	}
	rc = cap_sets_set(d);
	if (!rc && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		rc = -errno;
	if (!rc && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		rc = -errno;
	if (rc)
		snprintf(err, errlen, "cannot give up capabilities: %s", strerror(-rc));
	return rc;
}

unsigned privs_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

void privs_names(uint64_t mask, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (int cap = 0; cap < 64 && used < len; cap++) {
		const char *name = cap < (int)(sizeof(cap_names) / sizeof(cap_names[0])) ? cap_names[cap] : NULL;

		if (!(mask & PRIVS_BIT(cap)))
			continue;
		if (name)
			used += (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "", name);
		else
			used += (size_t)snprintf(out + used, len - used, "%scapability %d", used ? ", " : "", cap);
	}
}
