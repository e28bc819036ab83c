/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdio.h>
#include "caps.h"

bool caps_have(int cap)
{
	unsigned long long eff = 0;
	char line[128];
	bool found = false;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return true;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "CapEff: %llx", &eff) == 1;
	fclose(f);
	return !found || cap < 0 || cap > 63 || (eff >> cap) & 1;
}
